/**
 * Screenshots of every screen at phone (390x844) and desktop (1280x800) width, written to
 * tests/e2e/screenshots/ for visual review, driven through the real app, host and vault worker.
 * Asserts only what a screenshot cannot hide: no horizontal scrolling and a clean console.
 */
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { bubbles, chatRow, expectClean, openChat, openPerson, register, send, startChat, type Person } from './support/parley';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

const viewports = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 }
] as const;

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

async function shot(page: Page, screen: string, vp: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${screen} scrolls sideways`).toBe(0);
  await page.screenshot({ path: `${DIR}${screen}-${vp}.png` });
}

for (const vp of viewports) {
  test(`every screen on ${vp.name} (${vp.width}x${vp.height})`, async ({ browser }) => {
    test.setTimeout(120_000);
    const alice = await openPerson(browser, 'alice', { width: vp.width, height: vp.height });
    const bob = await openPerson(browser, 'bob');
    people.push(alice, bob);
    const page = alice.page;

    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
    await shot(page, 'onboarding', vp.name);
    await page.getByLabel('Username').fill('No spaces!');
    await expect(page.getByText('Only letters, digits, _ or . are allowed.')).toBeVisible();
    await shot(page, 'onboarding-invalid', vp.name);
    await register(alice);
    await shot(page, 'chats-empty', vp.name);

    await page.getByRole('link', { name: 'New chat', exact: true }).click();
    await page.getByLabel('Their username').fill('nobody_by_that_name');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await shot(page, 'new-chat-error', vp.name);

    await register(bob);
    await page.getByLabel('Their username').fill(bob.name);
    await page.getByRole('button', { name: 'Start chat' }).click();
    await expect(page.getByRole('log', { name: `Messages with ${bob.name}` })).toBeVisible();
    await shot(page, 'conversation-empty', vp.name);

    await page.goto('/chats');
    await startChat(bob, alice.name);
    await send(bob, alice.name, 'Hey! Are we still on for Saturday? 🚲');
    await expect(chatRow(page, bob.name)).toContainText('1 unread');
    await shot(page, 'chats-list', vp.name);

    await openChat(alice, bob.name);
    await send(alice, bob.name, 'Yes! Meet at the bridge at 10?');
    await send(bob, alice.name, 'Perfect.\nI will bring coffee ☕ and the map.');
    await send(alice, bob.name, 'Great — here is the route: https://example.org/a/really/long/link/that/should/wrap/instead/of/overflowing');
    await send(bob, alice.name, '👍🎉🚴‍♀️🚴‍♂️🌉☀️');
    await expect(bubbles(page, bob.name)).toHaveCount(5);
    await expect(bubbles(page, bob.name).nth(3).getByRole('img', { name: 'Read' })).toBeVisible({ timeout: 30_000 });
    await shot(page, 'conversation', vp.name);

    await page.getByRole('link', { name: `Safety number and settings for ${bob.name}` }).click();
    await expect(page.getByTestId('safety-number')).toHaveAttribute('aria-label', /^Safety number (\d{5} ){11}\d{5}$/);
    await expect(page.getByTestId('safety-number').locator('span')).toHaveCount(12);
    await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
    await shot(page, 'contact', vp.name);
    await page.getByRole('button', { name: 'Mark as verified' }).click();
    await expect(page.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
    await shot(page, 'contact-verified', vp.name);

    await page.getByRole('button', { name: `Block ${bob.name}` }).scrollIntoViewIfNeeded();
    await shot(page, 'contact-privacy', vp.name);
    await page.getByRole('button', { name: `Block ${bob.name}` }).click();
    await page.getByRole('link', { name: 'Back to conversation' }).click();
    await expect(page.getByRole('button', { name: 'Unblock' })).toBeVisible();
    await shot(page, 'conversation-blocked', vp.name);
    await page.getByRole('button', { name: 'Unblock' }).click();
    await expect(page.getByRole('textbox', { name: `Message ${bob.name}` })).toBeVisible();

    await alice.context.setOffline(true);
    await expect(page.getByText("You're offline")).toBeVisible();
    await shot(page, 'conversation-offline', vp.name);
    await alice.context.setOffline(false);
    await expect(page.getByText("You're offline")).toHaveCount(0, { timeout: 30_000 });

    await expectClean(bob);
  });
}

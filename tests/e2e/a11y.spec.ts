/**
 * Accessibility audit (README "Screens and access"): axe-core runs in the real Chromium against
 * every screen a person reaches, with real data from the real host and vault worker, at phone and
 * desktop width. A screen passes with zero serious or critical violations of WCAG 2.1 A/AA; lesser
 * findings are printed so they stay visible without failing the run.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { openPerson, register, send, startChat, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const viewports = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 }
] as const;

/** Runs axe on what `page` shows now; fails (softly, so one run lists every screen's findings) on serious/critical ones, naming each node. */
async function audit(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.violations.filter((v) => !severe.includes(v));
  if (minor.length) console.log(`[a11y] ${screen}: minor ${minor.map((v) => `${v.id}(${v.nodes.length})`).join(', ')}`);
  const described = severe.map((v) => `${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  expect.soft(described, `${screen} has serious accessibility violations`).toEqual([]);
}

for (const vp of viewports) {
  test(`axe finds no serious violation on any screen at ${vp.name} width`, async ({ browser }) => {
    test.setTimeout(150_000);
    const alice = await openPerson(browser, 'alice', { width: vp.width, height: vp.height });
    const bob = await openPerson(browser, 'bob');
    people.push(alice, bob);
    const page = alice.page;

    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
    await audit(page, 'onboarding');
    await page.getByLabel('Username').fill('No spaces!');
    await expect(page.getByText('Only letters, digits, _ or . are allowed.')).toBeVisible();
    await audit(page, 'onboarding with an error');

    await register(alice);
    await audit(page, 'empty chat list');
    await register(bob);
    await startChat(alice, bob.name);
    await send(alice, bob.name, 'Hello Bob, see https://example.org/x');
    await startChat(bob, alice.name);
    await send(bob, alice.name, 'Hi! 👋');
    await expect(page.getByRole('log', { name: `Messages with ${bob.name}` })).toContainText('Hi! 👋');
    await audit(page, 'conversation');

    await page.goto('/chats');
    await expect(page.getByRole('list', { name: 'Conversations' })).toBeVisible();
    await audit(page, 'chat list');
    await page.goto('/new');
    await expect(page.getByLabel('Their username')).toBeVisible();
    await audit(page, 'new chat');
    await page.goto(`/chat/${bob.name}/contact`);
    await expect(page.getByRole('button', { name: 'Pin chat', exact: true })).toBeVisible();
    await audit(page, 'contact page');
    await page.goto('/settings');
    await expect(page.getByRole('heading', { name: 'Settings', exact: true })).toBeVisible();
    await audit(page, 'settings');
    await page.goto('/group/new');
    await expect(page.getByLabel('Group name')).toBeVisible();
    await audit(page, 'new group');

    // A stranger's first text is a message request (P42): its decision bar is audited too.
    await page.goto('/chats');
    const carol = await openPerson(browser, 'carol');
    people.push(carol);
    await register(carol);
    await startChat(carol, alice.name);
    await send(carol, alice.name, 'Hi, we met at the meetup');
    await page.getByRole('list', { name: 'Message requests' }).getByRole('link').first().click();
    await expect(page.getByRole('region', { name: `Message request from ${carol.name}` })).toBeVisible();
    await audit(page, 'message request');
  });
}

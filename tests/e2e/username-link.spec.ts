/**
 * Username links in the browser (README "Design: private discovery"): alice's link and QR code in
 * Settings; bob opens the link and lands in a chat with her; after alice resets it, the old link
 * says it no longer works. Real host, real build, one browser context each.
 */
import { expect, test } from '@playwright/test';
import { conversationTitle, expectClean, openPerson, register, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('a username link opens a chat with its owner; after a reset the old link stops working', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);

  await alice.page.getByRole('link', { name: 'Settings' }).click();
  const field = alice.page.getByRole('textbox', { name: 'Link' });
  await expect(field).toHaveValue(/\/u#[A-Za-z0-9_-]{64}$/);
  await expect(alice.page.getByRole('img', { name: 'QR code of your username link' })).toBeVisible();
  const link = await field.inputValue();
  await alice.page.getByRole('heading', { name: 'Your username link' }).scrollIntoViewIfNeeded();
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/username-link-settings.png' });

  await bob.page.goto(link);
  await expect(conversationTitle(bob.page, alice.name)).toBeVisible({ timeout: 30_000 });

  await alice.page.getByRole('button', { name: 'Reset link' }).click();
  await alice.page.getByRole('button', { name: 'Reset: old link stops working' }).click();
  await expect(alice.page.getByText('New link made. The old link and QR code no longer work.')).toBeVisible();
  await expect(field).not.toHaveValue(link);

  await bob.page.goto(link);
  await expect(bob.page.getByRole('alert')).toContainText('This link no longer works');
  await bob.page.goto(await field.inputValue());
  await expect(conversationTitle(bob.page, alice.name)).toBeVisible({ timeout: 30_000 });
  await expectClean(alice);
  await expectClean(bob);
});

/**
 * Message search end to end (README "Search"): two browsers; the search field on the chat list
 * finds sent and received messages (accents and case folded, the last word as a prefix), shows
 * the match marked as text (a message holding markup shows it as text, never as elements), opens
 * the conversation at the message by keyboard alone, and a message deleted for everyone is no
 * longer found on either side (P44). Screenshots go to tests/e2e/screenshots/.
 */
import { expect, test, type Page } from '@playwright/test';
import { bubbles, expectClean, openChat, openPerson, register, send, startChat, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

function field(page: Page) {
  return page.getByRole('searchbox', { name: 'Search messages', exact: true });
}
function results(page: Page) {
  return page.getByRole('list', { name: 'Search results', exact: true }).getByRole('link');
}

test('P44 P31 search finds messages on both sides, opens the conversation at one by keyboard, and forgets a deleted one', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob', { width: 390, height: 844 });
  people.push(alice, bob);
  let dialogs = 0;
  for (const p of [alice, bob]) p.page.on('dialog', (d) => void d.dismiss().then(() => dialogs++));
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'Dinner at the Trattoria tonight?');
  await send(alice, bob.name, 'unrelated hello');
  await send(alice, bob.name, '<img src=x onerror=alert(1)> <b>crème</b> brûlée');
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name)).toHaveCount(3);
  await bob.page.getByRole('button', { name: 'Accept', exact: true }).click();
  await send(bob, alice.name, 'See you at the TRATTÒRIA');
  await expect(bubbles(alice.page, bob.name)).toHaveCount(4);

  // Alice (desktop: the list is beside the conversation) searches; newest first, the match marked.
  await field(alice.page).fill('tratt');
  await expect(results(alice.page)).toHaveCount(2);
  await expect(results(alice.page).first()).toContainText('See you at the TRATTÒRIA');
  await expect(results(alice.page).first().locator('mark')).toHaveText('TRATTÒRIA');
  await expect(results(alice.page).nth(1).locator('mark')).toHaveText('Trattoria');
  await expect(alice.page.getByRole('status').filter({ hasText: '2 messages' })).toBeVisible();

  // Markup in a message is text in the result: no element is made from it.
  await field(alice.page).fill('CREME BRU');
  await expect(results(alice.page)).toHaveText([/brûlée/]);
  await expect(results(alice.page).first()).toContainText('<img src=x onerror=alert(1)> <b>crème</b> brûlée');
  await expect(results(alice.page).first().locator('img, b')).toHaveCount(0);
  await expect(results(alice.page).first().locator('mark')).toHaveText(['crème', 'brûlée']);
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/search-desktop.png' });

  // Keyboard: ArrowDown enters the results, Enter opens the conversation at that message.
  await field(alice.page).fill('dinner');
  await expect(results(alice.page)).toHaveText([/Dinner at the Trattoria tonight\?/]);
  await field(alice.page).press('ArrowDown');
  await expect(results(alice.page).first()).toBeFocused();
  await alice.page.keyboard.press('Enter');
  await expect(alice.page).toHaveURL(/\?m=/);
  const dinner = bubbles(alice.page, bob.name).filter({ hasText: 'Dinner at the Trattoria tonight?' });
  await expect(dinner).toBeFocused();
  await expect(dinner).toBeInViewport();

  // Bob, on a phone, finds it too; then Alice deletes it for everyone and neither finds it any more.
  await bob.page.goto('/chats');
  await field(bob.page).fill('dinner tonig');
  await expect(results(bob.page)).toHaveCount(1);
  await expect(results(bob.page).first().locator('mark')).toHaveText(['Dinner', 'tonight']);
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/search-phone.png' });

  await alice.page.keyboard.press('Enter');
  await alice.page.getByRole('menu', { name: 'Message actions' }).getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await expect(dinner).toHaveCount(0);
  await expect(bubbles(alice.page, bob.name).first()).toContainText('You deleted this message');
  await field(alice.page).fill('dinner');
  await expect(alice.page.getByRole('status').filter({ hasText: 'No messages found' })).toBeVisible();
  await expect(results(alice.page)).toHaveCount(0);

  await field(bob.page).fill('');
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name).first()).toContainText('This message was deleted');
  await bob.page.goto('/chats');
  await field(bob.page).fill('dinner');
  await expect(bob.page.getByRole('status').filter({ hasText: 'No messages found' })).toBeVisible();
  await expect(results(bob.page)).toHaveCount(0);
  // The rest is still found.
  await field(bob.page).fill('unrelated');
  await expect(results(bob.page)).toHaveText([/unrelated hello/]);
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/search-after-delete-phone.png' });

  expect(dialogs).toBe(0);
  await expectClean(alice);
  await expectClean(bob);
});

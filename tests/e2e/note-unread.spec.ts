/**
 * Note to self, the "Unread messages" divider and the chat list's ticks, in Chromium (README
 * "Note to self", "Chat list"): a note is kept and listed as "Note to self" (first of the new-chat
 * suggestions; typing your own username opens it too); a chat opens at its first unread message
 * under a divider; the sender's chat row shows Delivered, then Read. Screenshots go to
 * tests/e2e/screenshots/.
 */
import { expect, test } from '@playwright/test';
import { acceptedChat, bubbles, chatRow, expectClean, openChat, openPerson, register, registered, send, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('note to self: first of the suggestions, kept on this device, listed as "Note to self"', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  people.push(alice);
  await register(alice);
  await alice.page.getByRole('link', { name: 'New chat', exact: true }).click();
  const suggestions = alice.page.getByRole('navigation', { name: 'Suggestions' }).getByRole('link');
  await expect(suggestions.first()).toHaveText(/^Note to self/);
  await suggestions.first().click();
  await expect(alice.page.getByRole('heading', { name: 'Note to self', level: 1 })).toBeVisible();
  await expect(alice.page.getByText('Nothing you write here is sent.')).toBeVisible();
  await send(alice, 'yourself', 'buy milk');
  await expect(bubbles(alice.page, 'yourself')).toHaveText([/buy milk/]);
  // A note shows no ticks: it went nowhere.
  await expect(bubbles(alice.page, 'yourself').getByRole('img')).toHaveCount(0);
  const row = alice.page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: /^Note to self/ });
  await expect(row).toContainText('buy milk');
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/note-to-self-desktop.png' });
  // Typing your own username in "New chat" opens it too; it survives a reload.
  await alice.page.getByRole('link', { name: 'New chat', exact: true }).click();
  await alice.page.getByLabel('Their username').fill(alice.name);
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await expect(alice.page.getByRole('heading', { name: 'Note to self', level: 1 })).toBeVisible();
  await alice.page.reload();
  await expect(bubbles(alice.page, 'yourself')).toHaveText([/buy milk/]);
  await expectClean(alice);
});

test('a chat opens at its first unread message under a divider; the sender\'s row shows Delivered, then Read', async ({ browser }) => {
  const [alice, bob] = (await registered(browser, people, 'alice', 'bob')) as [Person, Person];
  await acceptedChat(alice, bob, 'Hello Bob', 'Hi Alice');
  // Bob leaves the chat; alice writes three more.
  await bob.page.goto('/new');
  for (const t of ['one', 'two', 'three']) await send(alice, bob.name, t);
  await expect(chatRow(bob.page, alice.name)).toContainText('3 unread');
  const aliceRow = chatRow(alice.page, bob.name);
  await expect(aliceRow.getByRole('img', { name: 'Delivered', exact: true })).toBeVisible();
  await openChat(bob, alice.name);
  const divider = bob.page.getByRole('separator', { name: 'Unread messages', exact: true });
  await expect(divider).toBeVisible();
  // The divider sits right above "one": the row after it holds the first unread message.
  const firstUnread = bob.page.locator('[data-row]', { has: divider });
  await expect(firstUnread.getByTestId('message')).toContainText('one');
  await expect(aliceRow.getByRole('img', { name: 'Read', exact: true })).toBeVisible();
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/unread-divider-desktop.png' });
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/chat-row-ticks-desktop.png' });
  await expectClean(alice);
  await expectClean(bob);
});

/**
 * Two tabs of the same account (DESIGN.md §5 "only one tab drives"): both show what arrives,
 * either can send, and closing the driving tab hands over to the other without losing anything.
 */
import { expect, test } from '@playwright/test';
import { bubbles, chatRow, openChat, openPerson, register, send, startChat, texts, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('two tabs of one account stay in step, and the second takes over when the first closes', async ({ browser }) => {
  test.setTimeout(90_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(bob, alice.name);
  await send(bob, alice.name, 'to both of your tabs');

  const first = alice.page;
  const second = await alice.context.newPage();
  await second.goto('/chats');
  for (const page of [first, second]) await expect(chatRow(page, bob.name)).toContainText('to both of your tabs');

  // The second tab (a follower: the first holds the driver lock) sends; bob gets it.
  const tab2: Person = { ...alice, page: second };
  await openChat(tab2, bob.name);
  await send(tab2, bob.name, 'from the second tab');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('from the second tab');
  await expect(chatRow(first, bob.name)).toContainText('from the second tab');

  // Close the driving tab: the second takes over receiving.
  await first.close();
  await send(bob, alice.name, 'after the first tab closed');
  await expect(bubbles(second, bob.name).last()).toContainText('after the first tab closed', { timeout: 30_000 });
  expect(await texts(second, bob.name)).toEqual(['to both of your tabs', 'from the second tab', 'after the first tab closed']);
});

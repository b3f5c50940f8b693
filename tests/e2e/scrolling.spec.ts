/**
 * The conversation follows new messages while the reader is at the bottom, and leaves them alone
 * — nothing on screen moves — once they scroll up to read history; "Jump to newest" brings them
 * back down.
 */
import { expect, test, type Locator } from '@playwright/test';
import { bubbles, messageLog, openChat, openPerson, register, send, startChat, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

async function inView(scroller: Locator, item: Locator): Promise<boolean> {
  const [s, i] = [(await scroller.boundingBox())!, (await item.boundingBox())!];
  return i.y >= s.y - 1 && i.y + i.height <= s.y + s.height + 1;
}

test('auto-scroll follows new messages only while the reader is at the bottom', async ({ browser }) => {
  test.setTimeout(90_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob', { width: 390, height: 844 });
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  for (let i = 1; i <= 25; i++) await send(alice, bob.name, `history ${i}`);

  await expect(bob.page.getByRole('link', { name: new RegExp(`^${alice.name}`) })).toContainText('25 unread');
  await openChat(bob, alice.name);
  const list = bubbles(bob.page, alice.name);
  await expect(list).toHaveCount(25);
  const scroller = messageLog(bob.page, alice.name).locator('..');
  // With 25 unread the chat opens at the first of them, under the divider (README "Unread
  // divider", as Signal); the reader then scrolls down to the newest.
  await expect(bob.page.getByRole('separator', { name: 'Unread messages', exact: true })).toBeVisible();
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect.poll(() => inView(scroller, list.last())).toBe(true);

  // Scrolled up to read: a new message does not move what is on screen.
  await scroller.evaluate((el) => (el.scrollTop = 0));
  const firstBefore = (await list.first().boundingBox())!.y;
  await send(alice, bob.name, 'arrives while reading');
  await expect(list).toHaveCount(26);
  await expect(bob.page.getByRole('button', { name: 'Jump to newest' })).toBeVisible();
  expect((await list.first().boundingBox())!.y).toBe(firstBefore);
  expect(await inView(scroller, list.last())).toBe(false);

  await bob.page.getByRole('button', { name: 'Jump to newest' }).click();
  await expect.poll(() => inView(scroller, list.last())).toBe(true);
  await expect(bob.page.getByRole('button', { name: 'Jump to newest' })).toHaveCount(0);

  // At the bottom again: the next message is followed.
  await send(alice, bob.name, 'followed');
  await expect(list).toHaveCount(27);
  await expect.poll(() => inView(scroller, list.last())).toBe(true);
});

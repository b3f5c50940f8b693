/**
 * Filing chats (README "Chat list") in real Chromium against the real host: pin puts a chat on
 * top, archive moves it to "Archived", a new message brings it back, and a muted archived chat
 * stays archived. All local: the other side sees nothing change.
 */
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { chatHref, chatRow, openPerson, register, send, startChat, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const shot = (name: string) => fileURLToPath(new URL(`./screenshots/${name}.png`, import.meta.url));
const rowNames = (page: Page) => page.getByRole('list', { name: 'Conversations' }).getByRole('link').evaluateAll((as) => as.map((a) => a.getAttribute('data-chat')));

async function file(p: Person, other: string, button: string): Promise<void> {
  await p.page.goto(`${await chatHref(p.page, other)}/contact`);
  await p.page.getByRole('button', { name: button, exact: true }).click();
  await expect(p.page.getByRole('button', { name: button, exact: true })).toHaveCount(0);
}

test('pin puts a chat on top; archive hides it until a new message, unless muted', async ({ browser }) => {
  const [ann, ben, cat] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat')];
  people.push(ann, ben, cat);
  for (const p of [ann, ben, cat]) await register(p);
  // Ann knows both (else their first texts wait under "Message requests", P42, not in the list filed here).
  await startChat(ann, ben.name);
  await startChat(ann, cat.name);
  await startChat(ben, ann.name);
  await send(ben, ann.name, 'from ben');
  await startChat(cat, ann.name);
  await send(cat, ann.name, 'from cat');
  // Cat's text may still be on its way when ben's row shows: wait for the order, not for a row.
  await expect.poll(() => rowNames(ann.page)).toEqual([cat.name, ben.name]);

  await file(ann, ben.name, 'Pin chat');
  await expect.poll(() => rowNames(ann.page)).toEqual([ben.name, cat.name]);
  await expect(chatRow(ann.page, ben.name)).toContainText('Pinned');
  await ann.page.screenshot({ path: shot('chat-list-pinned') });

  await file(ann, cat.name, 'Archive chat');
  await expect.poll(() => rowNames(ann.page)).toEqual([ben.name]);
  await ann.page.getByRole('button', { name: 'Archived (1)' }).click();
  await expect(ann.page.getByRole('list', { name: 'Archived chats' }).getByRole('link', { name: new RegExp(`^${cat.name}`) })).toBeVisible();
  await ann.page.getByRole('button', { name: '← Back to chats' }).click();

  // A new message brings an archived chat back.
  await send(cat, ann.name, 'are you there?');
  await expect.poll(() => rowNames(ann.page)).toEqual([ben.name, cat.name]);

  // Muted and archived: it stays archived.
  await file(ann, cat.name, 'Mute notifications');
  await file(ann, cat.name, 'Archive chat');
  await send(cat, ann.name, 'still there?');
  await expect(ann.page.getByRole('button', { name: 'Archived (1)' })).toBeVisible();
  await ann.page.getByRole('button', { name: 'Archived (1)' }).click();
  await expect(ann.page.getByRole('list', { name: 'Archived chats' }).getByRole('link', { name: new RegExp(`^${cat.name}`) })).toContainText('Muted');
  await ann.page.screenshot({ path: shot('chat-list-archived') });
  // The others see nothing of it.
  await expect(chatRow(cat.page, ann.name)).not.toContainText(/Muted|Archived|Pinned/);
});

test('P44 deleting a chat takes its messages out of this browser after a second confirmation; the other side keeps them; the next message brings the chat back alone', async ({ browser }) => {
  const [ann, ben] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben')];
  people.push(ann, ben);
  for (const p of [ann, ben]) await register(p);
  await startChat(ann, ben.name);
  await startChat(ben, ann.name);
  await send(ben, ann.name, 'the code for the gate is 4711');
  await send(ann, ben.name, 'got it');
  await expect(chatRow(ann.page, ben.name)).toBeVisible({ timeout: 30_000 });

  await ann.page.goto(`${await chatHref(ann.page, ben.name)}/contact`);
  await ann.page.getByRole('button', { name: 'Delete chat…' }).click();
  await expect(ann.page.getByRole('alert')).toContainText('This cannot be undone');
  await ann.page.screenshot({ path: shot('chat-delete-confirm') });
  // Cancel keeps everything.
  await ann.page.getByRole('button', { name: 'Cancel' }).click();
  await ann.page.getByRole('button', { name: 'Delete chat…' }).click();
  await ann.page.getByRole('button', { name: 'Delete chat', exact: true }).click();
  await expect(ann.page).toHaveURL(/\/chats$/);
  await expect(chatRow(ann.page, ben.name)).toHaveCount(0);
  // Search finds nothing of it.
  await ann.page.getByRole('searchbox', { name: 'Search messages' }).fill('4711');
  await expect(ann.page.getByRole('status').filter({ hasText: /messages? found|No messages/ })).toHaveText('No messages found', { timeout: 10_000 });
  await ann.page.getByRole('searchbox', { name: 'Search messages' }).fill('');
  // Ben keeps his history and is told nothing.
  await expect(ben.page.getByRole('log')).toContainText('the code for the gate is 4711');
  await expect(ben.page.getByRole('log')).toContainText('got it');

  // Ben's next message brings the chat back, with that message only.
  await send(ben, ann.name, 'are you coming?');
  await expect(chatRow(ann.page, ben.name)).toContainText('are you coming?', { timeout: 30_000 });
  await chatRow(ann.page, ben.name).click();
  await expect(ann.page.getByRole('log')).toContainText('are you coming?');
  await expect(ann.page.getByRole('log')).not.toContainText('4711');
  await expect(ann.page.getByRole('log')).not.toContainText('got it');
});

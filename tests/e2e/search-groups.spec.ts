/**
 * Search in groups end to end (README "Search"): three people in separate browsers against the
 * real host and vault worker. Ann makes a group with Ben and Cat; texts are sent and received in
 * it (so both the sending and the receiving side index them as they are stored). Cat's search
 * finds a group text beside a 1:1 one, the result naming the group, the sender and the match;
 * opening it by keyboard opens the GROUP conversation at that message (centred, focused). The
 * screenshot goes to tests/e2e/screenshots/search-groups.png.
 */
import { expect, test, type Page } from '@playwright/test';
import { bubbles, chatHref, expectClean, openPerson, register, send, startChat, type Person } from './support/parley';
import { createGroup, groupRow } from './support/groups';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const groupLog = (page: Page) => page.getByRole('list', { name: 'Group messages' });
const field = (page: Page) => page.getByRole('searchbox', { name: 'Search messages', exact: true });
const results = (page: Page) => page.getByRole('list', { name: 'Search results', exact: true }).getByRole('link');

async function say(p: Person, name: string, text: string): Promise<void> {
  const box = p.page.getByLabel(`Message ${name}`);
  await box.fill(text);
  await box.press('Enter');
  await expect(groupLog(p.page)).toContainText(text);
}

test('P32 search finds group messages, names the group and sender, and opens the group at the message', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben, cat] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat')];
  people.push(ann, ben, cat);
  for (const p of people) await register(p);
  const name = 'Ridge hikers';

  await createGroup(ann, name, [ben, cat]);

  // Enough messages that the one found is not simply the newest on screen.
  await say(ann, name, 'Meet at the Lindenhof trailhead at 8');
  for (let i = 1; i <= 12; i++) await say(ann, name, `logistics note ${i}`);
  await groupRow(ben.page, name).click();
  await expect(groupLog(ben.page)).toContainText('logistics note 12');
  await say(ben, name, 'Lindenhof works for me');
  // And a 1:1 text with the same word.
  await startChat(ann, cat.name);
  await send(ann, cat.name, 'Lindenhof bakery after?');

  await cat.page.goto('/chats');
  // The 1:1 chat's address (P46: sealed, so read from the list before a search replaces the list).
  const annChat = await chatHref(cat.page, ann.name);
  await field(cat.page).fill('lindenh');
  await expect(results(cat.page)).toHaveCount(3);
  await expect(cat.page.getByRole('status').filter({ hasText: '3 messages' })).toBeVisible();
  // Newest first: the 1:1 text, Ben's group reply, Ann's group text.
  await expect(results(cat.page).nth(0)).toContainText('Lindenhof bakery after?');
  await expect(results(cat.page).nth(0).locator('.chat')).toHaveText(ann.name);
  const bens = results(cat.page).nth(1);
  await expect(bens.locator('.chat')).toHaveText(name);
  await expect(bens.locator('.kind')).toHaveText('Group');
  await expect(bens.locator('.sender')).toHaveText(`${ben.name}:`);
  await expect(bens.locator('mark')).toHaveText('Lindenhof');
  const anns = results(cat.page).nth(2);
  await expect(anns.locator('.chat')).toHaveText(name);
  await expect(anns.locator('.sender')).toHaveText(`${ann.name}:`);
  await expect(anns).toContainText('Meet at the Lindenhof trailhead at 8');
  await cat.page.screenshot({ path: 'tests/e2e/screenshots/search-groups.png' });

  // Ben sees his own group text as "You".
  await ben.page.goto('/chats');
  await field(ben.page).fill('lindenhof works');
  await expect(results(ben.page)).toHaveCount(1);
  await expect(results(ben.page).first().locator('.sender')).toHaveText('You:');

  // Keyboard: into the results, down to Ann's group text, Enter opens the group at it.
  await field(cat.page).press('ArrowDown');
  await cat.page.keyboard.press('ArrowDown');
  await cat.page.keyboard.press('ArrowDown');
  await expect(anns).toBeFocused();
  await cat.page.keyboard.press('Enter');
  await expect(cat.page).toHaveURL(/\/group\/[^?]+\?m=/);
  await expect(cat.page.getByRole('heading', { name, level: 1 })).toBeVisible();
  const target = groupLog(cat.page).locator('li.msg', { hasText: 'Meet at the Lindenhof trailhead at 8' });
  await expect(target).toBeFocused();
  await expect(target).toBeInViewport();
  await cat.page.screenshot({ path: 'tests/e2e/screenshots/search-groups-opened.png' });

  // The 1:1 result (a message request here) still opens the 1:1 chat at its message.
  await cat.page.goto('/chats');
  await field(cat.page).fill('bakery');
  await results(cat.page).first().click();
  await expect(cat.page).toHaveURL(new RegExp(`${annChat}\\?m=`));
  await expect(bubbles(cat.page, ann.name).filter({ hasText: 'Lindenhof bakery after?' })).toBeVisible();
  for (const p of people) await expectClean(p);
});

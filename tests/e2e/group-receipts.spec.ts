/**
 * Receipts per member and mentions in a group (README "Groups"), three people in separate browser
 * contexts against the real host and the real vault worker. Ann's message goes to "Delivered to
 * 2 of 2", then "Read by 1 of 2" and "Read by 2 of 2" as Ben and Cat open the group; the message
 * info (opened from the keyboard) lists each member's state. Ann mentions Cat through the "@"
 * picker by keyboard only; Cat's chat list shows the "@" until she reads it, highlighted. Ann's
 * first group message leaves her worker as one sealed sender v3 upload (P41).
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, type Person } from './support/parley';
import { acceptGroupRequest, createGroup, groupRow } from './support/groups';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const groupLog = (page: Page) => page.getByRole('list', { name: 'Group messages' });
const SHOTS = 'tests/e2e/screenshots';

/** axe on what `page` shows now: no serious or critical WCAG 2.1 AA violation. */
async function audit(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`), screen).toEqual([]);
}

async function openGroup(p: Person, name: string): Promise<void> {
  await groupRow(p.page, name).click();
  await expect(p.page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

test('P41 group receipts per member and a keyboard mention with the row badge', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben, cat] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat')];
  people.push(ann, ben, cat);
  for (const p of people) await register(p);
  const name = 'Ridge walk';

  // Ann's multi-recipient sealed uploads, as her vault worker sends them (P41: sealed sender v3).
  const uploads: Buffer[] = [];
  ann.context.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/sealed/multi') uploads.push(r.postDataBuffer() ?? Buffer.alloc(0));
  });
  await createGroup(ann, name, [ben, cat]);
  // Ann is a stranger to them: each accepts her group request first (P42: no receipts before).
  for (const p of [ben, cat]) await acceptGroupRequest(p, name, ann);

  // Ben and Cat are on their chat lists: their devices store it (delivered), nobody reads it yet.
  const box = ann.page.getByLabel(`Message ${name}`);
  await box.fill('Who is in for Sunday?');
  await box.press('Enter');
  const mine = groupLog(ann.page).locator('li.msg.out', { hasText: 'Who is in for Sunday?' });
  await expect(mine.getByRole('button', { name: 'Delivered to 2 of 2', exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(mine.getByRole('img', { name: 'Delivered', exact: true })).toBeVisible();
  await ann.page.screenshot({ path: `${SHOTS}/group-receipts-delivered.png` });

  await openGroup(ben, name);
  await expect(mine.getByRole('button', { name: 'Read by 1 of 2', exact: true })).toBeVisible({ timeout: 30_000 });
  await openGroup(cat, name);
  await expect(mine.getByRole('button', { name: 'Read by 2 of 2', exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(mine.getByRole('img', { name: 'Read', exact: true })).toBeVisible();
  // It went as ONE sealed sender v3 upload (seal keys given with Ann's sender key), not v2: after
  // u16 n and n token frames (u8 0, or u8 1 and 32 bytes) comes the sent form's version byte.
  const versions = uploads.map((b) => {
    let at = 2;
    for (let i = 0; i < b.readUInt16BE(0); i++) at += b[at] === 1 ? 33 : 1;
    return b[at];
  });
  expect(versions).toEqual([3]);

  // The message info, by keyboard: focus the count, Enter opens, each member's state, Escape closes.
  const count = mine.getByRole('button', { name: 'Read by 2 of 2', exact: true });
  await count.focus();
  await ann.page.keyboard.press('Enter');
  const info = ann.page.getByRole('dialog', { name: 'Message info' });
  await expect(info).toBeVisible();
  await expect(info.locator(`li[data-member="${ben.name}"]`)).toContainText('Read');
  await expect(info.locator(`li[data-member="${cat.name}"]`)).toContainText('Read');
  await ann.page.screenshot({ path: `${SHOTS}/group-receipts-info.png` });
  await audit(ann.page, 'message info');
  await ann.page.keyboard.press('Escape');
  await expect(info).toBeHidden();
  await expect(count).toBeFocused();

  // Cat mutes the group and leaves the conversation, so what comes next stays unread there.
  const mute = cat.page.getByRole('button', { name: 'Mute notifications', exact: true });
  await mute.click();
  await expect(mute).toHaveAttribute('aria-pressed', 'true');
  await cat.page.goto('/chats');
  await expect(groupRow(cat.page, name)).toContainText('Muted');
  await expect(groupRow(cat.page, name)).toBeVisible({ timeout: 30_000 });

  // Ann mentions Cat with the keyboard only: "@" opens the picker, ArrowDown to Cat, Enter picks.
  await box.focus();
  await ann.page.keyboard.type('Bring the map @');
  const picker = ann.page.getByRole('listbox', { name: 'Mention a member' });
  await expect(picker.getByRole('option')).toHaveCount(2);
  await expect(box).toHaveAttribute('aria-expanded', 'true');
  // Escape closes it without touching the text; typing on reopens it filtered.
  await ann.page.keyboard.press('Escape');
  await expect(picker).toBeHidden();
  await expect(box).toHaveValue('Bring the map @');
  await ann.page.keyboard.press('Backspace');
  await ann.page.keyboard.type('@');
  await expect(picker.getByRole('option')).toHaveCount(2);
  await expect(picker.getByRole('option', { name: ben.name, exact: true })).toHaveAttribute('aria-selected', 'true');
  await ann.page.keyboard.press('ArrowDown');
  await expect(picker.getByRole('option', { name: cat.name, exact: true })).toHaveAttribute('aria-selected', 'true');
  await ann.page.screenshot({ path: `${SHOTS}/group-mention-picker.png` });
  await audit(ann.page, 'mention picker');
  await ann.page.keyboard.press('Enter');
  await expect(picker).toBeHidden();
  await expect(box).toHaveValue(`Bring the map @${cat.name} `);
  await ann.page.keyboard.type('please');
  await ann.page.keyboard.press('Enter');
  const sent = groupLog(ann.page).locator('li.msg.out', { hasText: 'Bring the map' });
  await expect(sent.locator('mark.mention')).toHaveText(`@${cat.name}`);

  // Cat: the row's "@" until read, then the mention highlighted as hers.
  await expect(groupRow(cat.page, name).getByText('You were mentioned')).toBeAttached({ timeout: 30_000 });
  await cat.page.screenshot({ path: `${SHOTS}/group-mention-badge.png` });
  await openGroup(cat, name);
  const got = groupLog(cat.page).locator('li.msg', { hasText: 'Bring the map' });
  await expect(got.locator('mark.mention.me')).toHaveText(`@${cat.name}`);
  await expect(groupRow(cat.page, name).getByText('You were mentioned')).not.toBeAttached();
  await cat.page.screenshot({ path: `${SHOTS}/group-mention-highlight.png` });
  await audit(cat.page, 'group with a mention');
  // Ben was not mentioned: no badge on his row, the mention shown but not as his.
  await expect(groupLog(ben.page).locator('li.msg', { hasText: 'Bring the map' }).locator('mark.mention')).toHaveText(`@${cat.name}`);
  await expect(groupLog(ben.page).locator('mark.mention.me')).toHaveCount(0);
  await expect(groupRow(ben.page, name).getByText('You were mentioned')).not.toBeAttached();
  for (const p of people) await expectClean(p);
});

/**
 * Private groups end to end (README "Groups"; SECURITY.md P19, P21), four people in separate
 * browser contexts against the real host and the real vault worker: Ann creates a group with
 * Ben, Cat and Dan by username; everyone chats; Ann removes Dan, who then sees nothing new; Ben
 * leaves. The invite link is not built yet (see README).
 */
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, type Person } from './support/parley';
import { groupRow } from './support/groups';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const groupLog = (page: Page) => page.getByRole('list', { name: 'Group messages' });

async function openGroup(p: Person, name: string): Promise<void> {
  await groupRow(p.page, name).click();
  await expect(p.page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

async function say(p: Person, name: string, text: string): Promise<void> {
  const box = p.page.getByLabel(`Message ${name}`);
  await box.fill(text);
  await box.press('Enter');
  await expect(groupLog(p.page)).toContainText(text);
}

test('P21 four people: create a group by username, chat, remove one (who sees nothing new), leave', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben, cat, dan] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat'), await openPerson(browser, 'dan')];
  people.push(ann, ben, cat, dan);
  for (const p of people) await register(p);
  const name = 'Weekend climbing';

  await ann.page.getByRole('link', { name: 'New group' }).click();
  await ann.page.getByLabel('Group name').fill(name);
  await ann.page.getByLabel('Description').fill('Who brings the rope?');
  await ann.page.getByLabel("Members' usernames").fill(`${ben.name}, ${cat.name}, ${dan.name}`);
  await ann.page.getByRole('button', { name: 'Create group' }).click();
  await expect(ann.page.getByRole('heading', { name, level: 1 })).toBeVisible({ timeout: 30_000 });
  for (const p of [ben, cat, dan]) await expect(groupRow(p.page, name)).toContainText('Group · 4', { timeout: 30_000 });

  await say(ann, name, 'Hello climbers!');
  for (const p of [ben, cat, dan]) {
    await openGroup(p, name);
    await expect(groupLog(p.page)).toContainText('Hello climbers!');
  }
  await say(ben, name, 'I have a rope');
  await say(dan, name, 'Count me in');
  for (const p of [ann, cat]) await expect(groupLog(p.page)).toContainText('Count me in');
  // Sender names are shown on incoming messages.
  await expect(groupLog(cat.page).locator('.sender', { hasText: ben.name })).toBeVisible();
  // As in a 1:1 chat: the day opens the log, and every message, ours and theirs, shows its time.
  await expect(groupLog(cat.page).locator('li').first()).toHaveText('Today');
  for (const p of [ann, cat]) {
    const texts = groupLog(p.page).locator('li.msg');
    await expect(texts).toHaveCount(3);
    await expect(texts.locator('time')).toHaveCount(3);
    await expect(texts.locator('time').first()).toHaveText(/^\d{1,2}:\d{2}/);
  }
  // The group is one row among the chats; its members are not 1:1 chats of their own. (Ben wrote
  // in it, which accepts the group request a stranger's adding made, P42; Cat has not yet.)
  for (const p of [ann, ben]) await expect(p.page.getByRole('list', { name: 'Conversations' }).getByRole('listitem')).toHaveCount(1);
  await expect(cat.page.getByRole('list', { name: 'Message requests' }).getByRole('listitem')).toHaveCount(1);
  await cat.page.screenshot({ path: 'tests/e2e/screenshots/group-conversation.png' });

  // Group info: members, admins, safety numbers; Ann removes Dan.
  await ann.page.getByRole('link', { name: 'Group info' }).click();
  const members = ann.page.getByRole('list', { name: 'Members' });
  await expect(members.locator('li')).toHaveCount(4);
  await expect(members.locator(`li[data-member="${ann.name}"]`)).toContainText('Admin');
  await expect(members.locator(`li[data-member="${ben.name}"] .sn`)).toHaveText(/^(\d{5} ){11}\d{5}$/);
  await ann.page.screenshot({ path: 'tests/e2e/screenshots/group-info.png' });
  await ann.page.getByRole('button', { name: `Remove ${dan.name}` }).click();
  await expect(members.locator('li')).toHaveCount(3);

  await expect(groupLog(dan.page)).toContainText('You were removed from this group', { timeout: 30_000 });
  await expect(dan.page.getByText('You are no longer a member of this group.')).toBeVisible();
  await expect(groupLog(cat.page)).toContainText(`${dan.name} was removed`, { timeout: 30_000 });
  await say(cat, name, 'Just the three of us now');
  await expect(groupLog(ben.page)).toContainText('Just the three of us now');
  await openGroup(ann, name);
  await expect(groupLog(ann.page)).toContainText('Just the three of us now');
  // Dan sees nothing new.
  await dan.page.waitForTimeout(1500);
  await expect(groupLog(dan.page)).not.toContainText('Just the three of us now');
  await dan.page.screenshot({ path: 'tests/e2e/screenshots/group-removed.png' });

  // Ben leaves.
  await ben.page.getByRole('link', { name: 'Group info' }).click();
  await ben.page.getByRole('button', { name: 'Leave group' }).click();
  await expect(ben.page.getByText('You are no longer a member of this group.')).toBeVisible();
  await expect(groupLog(ann.page)).toContainText(`${ben.name} left`, { timeout: 30_000 });
  await say(ann, name, 'Bye Ben');
  await expect(groupLog(cat.page)).toContainText('Bye Ben');
  await ben.page.waitForTimeout(1500);
  await expect(groupLog(ben.page)).not.toContainText('Bye Ben');

  // No longer a member, Ben deletes the group from his browser (two steps); the others keep it.
  await ben.page.getByRole('link', { name: 'Group info' }).click();
  await ben.page.getByRole('button', { name: 'Delete group…' }).click();
  await expect(ben.page.getByRole('alert')).toContainText('This cannot be undone');
  await ben.page.screenshot({ path: 'tests/e2e/screenshots/group-delete-confirm.png' });
  await ben.page.getByRole('button', { name: 'Delete group', exact: true }).click();
  await expect(ben.page).toHaveURL(/\/chats$/);
  await expect(groupRow(ben.page, name)).toHaveCount(0);
  await expect(groupRow(ann.page, name)).toHaveCount(1);
  await expect(groupLog(ann.page)).toContainText('Bye Ben');
  for (const p of people) await expectClean(p);
});

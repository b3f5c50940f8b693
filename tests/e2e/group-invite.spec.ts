/**
 * Group invite links end to end (README "Groups": invite links; SECURITY.md P19, P21): four people
 * in separate browser contexts against the real host and vault worker. Ann creates a group with
 * Ben, makes an invite link; Cat joins by it (the join screen shows the group decrypted from the
 * invite blob); Ann turns on approval and Dan asks to join, Ann approves; everyone chats; Ann
 * removes Dan (who then sees nothing new); Ben leaves; Ann resets the link and the old one says so.
 * Dan uses a phone-sized window.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, type Person } from './support/parley';
import { groupRow } from './support/groups';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const groupLog = (page: Page) => page.getByRole('list', { name: 'Group messages' });
const heading = (page: Page, name: string) => page.getByRole('heading', { name, level: 1, exact: true });

async function say(p: Person, name: string, text: string): Promise<void> {
  const box = p.page.getByLabel(`Message ${name}`);
  await box.fill(text);
  await box.press('Enter');
  await expect(groupLog(p.page)).toContainText(text);
}

/** No serious or critical WCAG 2.1 A/AA violation on what `page` shows (as tests/e2e/screens.spec.ts). */
async function audit(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`), `${screen} accessibility`).toEqual([]);
}

async function openGroup(p: Person, name: string): Promise<void> {
  await groupRow(p.page, name).click();
  await expect(heading(p.page, name)).toBeVisible();
}

test('P19 four people: invite link, approval, chat, remove one (P21: sees nothing new), leave, reset link', async ({ browser }) => {
  test.setTimeout(240_000);
  const [ann, ben, cat, dan] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat'), await openPerson(browser, 'dan', { width: 390, height: 844 })];
  people.push(ann, ben, cat, dan);
  for (const p of people) await register(p);
  const name = 'Book club';

  await ann.page.getByRole('link', { name: 'New group' }).click();
  await ann.page.getByLabel('Group name').fill(name);
  await ann.page.getByLabel('Description').fill('One chapter a week');
  await ann.page.getByLabel("Members' usernames").fill(ben.name);
  await ann.page.getByRole('button', { name: 'Create group' }).click();
  await expect(heading(ann.page, name)).toBeVisible({ timeout: 30_000 });
  await say(ann, name, 'Before any link');

  // Ann makes a link in group info.
  await ann.page.getByRole('link', { name: 'Group info' }).click();
  await ann.page.getByRole('button', { name: 'Create invite link', exact: true }).click();
  const linkBox = ann.page.getByRole('textbox', { name: 'Invite link', exact: true });
  await expect(linkBox).toHaveValue(/\/join#[A-Za-z0-9_-]{44}$/);
  const link = await linkBox.inputValue();

  // Cat opens it: the group's name and member count come from the invite blob.
  await cat.page.goto(link);
  await expect(cat.page.getByRole('heading', { name, level: 2 })).toBeVisible({ timeout: 30_000 });
  await expect(cat.page.getByText('Group · 2 members')).toBeVisible();
  await cat.page.screenshot({ path: 'tests/e2e/screenshots/group-join.png' });
  await audit(cat.page, 'join screen');
  await cat.page.getByRole('button', { name: 'Join group', exact: true }).click();
  await expect(heading(cat.page, name)).toBeVisible({ timeout: 60_000 });

  // Approval on: Dan asks, Ann approves in group info.
  await ann.page.getByLabel('Admins approve new members').check();
  await expect(ann.page.getByText('and ask to join')).toBeVisible({ timeout: 30_000 });
  await dan.page.goto(link);
  await expect(dan.page.getByRole('button', { name: 'Ask to join', exact: true })).toBeVisible({ timeout: 30_000 });
  await dan.page.screenshot({ path: 'tests/e2e/screenshots/group-join-phone.png' });
  await dan.page.getByRole('button', { name: 'Ask to join', exact: true }).click();
  await expect(dan.page.getByText('Your request was sent.')).toBeVisible();
  const requests = ann.page.getByRole('list', { name: 'Requests to join' });
  await expect(requests.locator(`li[data-request="${dan.name}"]`)).toBeVisible({ timeout: 30_000 });
  await requests.scrollIntoViewIfNeeded();
  await ann.page.screenshot({ path: 'tests/e2e/screenshots/group-info-invite.png' });
  await audit(ann.page, 'group info with a link and a request');
  await ann.page.getByRole('button', { name: `Approve ${dan.name}`, exact: true }).click();
  const members = ann.page.getByRole('list', { name: 'Members' });
  await expect(members.locator('li')).toHaveCount(4, { timeout: 30_000 });
  await expect(heading(dan.page, name)).toBeVisible({ timeout: 60_000 });

  // Everyone chats; the newcomers read what is sent after they joined, not before.
  await openGroup(ann, name);
  await say(ann, name, 'Welcome Cat and Dan');
  for (const p of [ben, cat, dan]) {
    if (p === ben) await openGroup(ben, name);
    await expect(groupLog(p.page)).toContainText('Welcome Cat and Dan', { timeout: 30_000 });
  }
  for (const p of [cat, dan]) await expect(groupLog(p.page)).not.toContainText('Before any link');
  await say(cat, name, 'Hi from Cat');
  await say(dan, name, 'Hi from Dan');
  for (const p of [ann, ben]) await expect(groupLog(p.page)).toContainText('Hi from Dan', { timeout: 30_000 });

  // Ann removes Dan, who sees nothing new.
  await ann.page.getByRole('link', { name: 'Group info' }).click();
  await ann.page.getByRole('button', { name: `Remove ${dan.name}`, exact: true }).click();
  await expect(ann.page.getByRole('list', { name: 'Members' }).locator('li')).toHaveCount(3);
  await expect(groupLog(dan.page)).toContainText('You were removed from this group', { timeout: 30_000 });
  await openGroup(ann, name);
  await say(cat, name, 'Dan is gone');
  await expect(groupLog(ann.page)).toContainText('Dan is gone', { timeout: 30_000 });
  await dan.page.waitForTimeout(1500);
  await expect(groupLog(dan.page)).not.toContainText('Dan is gone');

  // Ben leaves.
  await ben.page.getByRole('link', { name: 'Group info' }).click();
  await ben.page.getByRole('button', { name: 'Leave group' }).click();
  await expect(ben.page.getByText('You are no longer a member of this group.')).toBeVisible();
  await expect(groupLog(ann.page)).toContainText(`${ben.name} left`, { timeout: 30_000 });
  await say(ann, name, 'Bye Ben');
  await expect(groupLog(cat.page)).toContainText('Bye Ben', { timeout: 30_000 });

  // Ann resets the link: the old one says so.
  await ann.page.getByRole('link', { name: 'Group info' }).click();
  await ann.page.getByRole('button', { name: 'Reset link', exact: true }).click();
  await expect(ann.page.getByRole('textbox', { name: 'Invite link', exact: true })).not.toHaveValue(link, { timeout: 30_000 });
  await dan.page.goto(link);
  await expect(dan.page.getByText('This link was reset.')).toBeVisible({ timeout: 30_000 });
  await dan.page.screenshot({ path: 'tests/e2e/screenshots/group-join-reset.png' });
  await audit(dan.page, 'reset link');
  for (const p of people) await expectClean(p);
});

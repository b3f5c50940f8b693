/**
 * A group change undone by a simultaneous one, in the browser (README "Groups": undone changes;
 * SECURITY.md P19): Ann and Ben are admins; both are offline; Ann renames the group while Ben adds
 * Dan. Back online, the fork choice keeps Ann's branch (she is the senior admin) everywhere and
 * voids Ben's add. Ben's screen says so and offers "Try again" (nothing is re-sent by itself);
 * pressing it adds Dan, whom Ann then sees in the member list.
 */
import { expect, test } from '@playwright/test';
import { acceptGroupRequest, createGroup, groupRow } from './support/groups';
import { expectClean, openPerson, register, startChat, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const SHOTS = 'tests/e2e/screenshots';

test('P19 two admins change a group at once: the undone change is shown with "Try again", which makes it', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben, cat, dan] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat'), await openPerson(browser, 'dan')];
  people.push(ann, ben, cat, dan);
  for (const p of people) await register(p);
  const name = 'Allotment';
  await createGroup(ann, name, [ben, cat]);
  await acceptGroupRequest(ben, name, ann);
  // Ben will add Dan while offline: he knows Dan already (a chat opened by name).
  await startChat(ben, dan.name);

  await ann.page.getByRole('link', { name: 'Group info' }).click();
  await ann.page.locator(`li[data-member="${ben.name}"]`).getByRole('button', { name: 'Make admin' }).click();
  await expect(ann.page.locator(`li[data-member="${ben.name}"]`)).toContainText('Admin');
  await groupRow(ben.page, name).click();
  await ben.page.getByRole('link', { name: 'Group info' }).click();
  await expect(ben.page.getByLabel('Add people by username')).toBeVisible({ timeout: 30_000 });

  await ann.context.setOffline(true);
  await ben.context.setOffline(true);
  await ann.page.getByRole('button', { name: 'Edit', exact: true }).click();
  const form = ann.page.getByRole('form', { name: 'Edit group info' });
  await form.getByLabel('Group name').fill('Allotment plot 7');
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(ann.page.getByRole('heading', { name: 'Allotment plot 7', level: 2 })).toBeVisible();
  await ben.page.getByLabel('Add people by username').fill(dan.name);
  await ben.page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(ben.page.locator(`li[data-member="${dan.name}"]`)).toBeVisible();
  await ann.context.setOffline(false);
  await ben.context.setOffline(false);

  // Both converge on Ann's branch: renamed, and no Dan.
  await expect(ben.page.getByRole('heading', { name: 'Allotment plot 7', level: 2 })).toBeVisible({ timeout: 45_000 });
  await expect(ben.page.locator(`li[data-member="${dan.name}"]`)).toHaveCount(0);
  await ben.page.getByRole('link', { name: 'Back to the group' }).click();
  const bar = ben.page.getByRole('region', { name: 'A change of yours was undone' });
  await expect(bar).toContainText(`your change was undone: adding ${dan.name}`);
  const log = ben.page.getByRole('list', { name: 'Group messages' });
  await expect(log).toContainText(`A change you made at the same moment as another admin was undone: adding ${dan.name}`);
  await expect(log).toContainText(`${dan.name} is not in the group after all: two admins changed it at the same moment`);
  await ben.page.screenshot({ path: `${SHOTS}/group-undone-desktop.png` });
  // Nothing was re-sent by itself: Ann's list still lacks Dan.
  await expect(ann.page.locator(`li[data-member="${dan.name}"]`)).toHaveCount(0);

  await bar.getByRole('button', { name: 'Try again' }).click();
  await expect(bar).toHaveCount(0);
  await expect(ann.page.locator(`li[data-member="${dan.name}"]`)).toBeVisible({ timeout: 45_000 });
  await expect(groupRow(dan.page, 'Allotment plot 7')).toBeVisible({ timeout: 45_000 });
  for (const p of [ann, ben]) await expectClean(p);
});

/**
 * Group requests (SECURITY.md P42; README "Groups": group requests) in three browsers against
 * the real host and vault worker: Ann, a stranger to Ben and Cat, adds them to a group. It lands
 * in their "Message requests"; Ben reads Ann's message there (its welcome says "ann added you to
 * the group") and she still sees only "Sent to 2" (no receipt while it is a request). Ben accepts: his read receipt goes, she sees "Read by 1 of 2".
 * Cat blocks: she leaves, the group goes from her list, and Ann sees her leave.
 */
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, type Person } from './support/parley';
import { createGroup, groupRow } from './support/groups';

const SHOTS = 'tests/e2e/screenshots';
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const groupLog = (page: Page) => page.getByRole('list', { name: 'Group messages' });

test('P42 a stranger adds Ben and Cat to a group: a request with no receipts; Ben accepts, Cat blocks', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben, cat] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat')];
  people.push(ann, ben, cat);
  for (const p of people) await register(p);
  const name = 'Trail crew';

  await createGroup(ann, name, [ben, cat]);
  const box = ann.page.getByLabel(`Message ${name}`);
  await box.fill('Join us on Saturday?');
  await box.press('Enter');
  const mine = groupLog(ann.page).locator('li.msg.out', { hasText: 'Join us on Saturday?' });
  await expect(mine.getByRole('button', { name: 'Sent to 2', exact: true })).toBeVisible({ timeout: 30_000 });

  // In Ben's "Message requests", not among his conversations, naming who added him.
  const requests = ben.page.getByRole('list', { name: 'Message requests' });
  await expect(requests.locator(`a[data-group="${name}"]`)).toContainText(`Added by ${ann.name}`, { timeout: 30_000 });
  await expect(ben.page.getByRole('list', { name: 'Conversations' }).getByRole('link')).toHaveCount(0);
  await ben.page.screenshot({ path: `${SHOTS}/group-request-list.png` });

  // Ben reads it: the message is there, the request bar above the composer, nothing goes back.
  await groupRow(ben.page, name).click();
  await expect(groupLog(ben.page)).toContainText('Join us on Saturday?', { timeout: 30_000 });
  const bar = ben.page.getByRole('region', { name: `Group request from ${ann.name}`, exact: true });
  await expect(bar).toContainText(`${ann.name} added you to ${name}.`);
  // The welcome names the adder too (as Signal), not "You joined".
  await expect(groupLog(ben.page).locator('li.notice').first()).toHaveText(`${ann.name} added you to the group`);
  await expect(groupLog(ben.page)).not.toContainText('You joined');
  await ben.page.screenshot({ path: `${SHOTS}/group-request-bar.png` });
  await ben.page.waitForTimeout(1500);
  await expect(mine.getByRole('button', { name: 'Sent to 2', exact: true })).toBeVisible();

  await bar.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(bar).toHaveCount(0);
  await expect(mine.getByRole('button', { name: 'Read by 1 of 2', exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(ben.page.getByRole('list', { name: 'Conversations' }).locator(`a[data-group="${name}"]`)).toBeVisible();

  // Cat blocks Ann from the request: she leaves, and the group is gone from her list.
  await groupRow(cat.page, name).click();
  const catBar = cat.page.getByRole('region', { name: `Group request from ${ann.name}`, exact: true });
  await catBar.getByRole('button', { name: 'Block', exact: true }).click();
  await expect(cat.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 30_000 });
  await expect(groupRow(cat.page, name)).toHaveCount(0);
  await expect(groupLog(ann.page)).toContainText(`${cat.name} left`, { timeout: 30_000 });
  await expect(mine.getByRole('button', { name: 'Read by 1 of 2', exact: true })).toBeVisible();
  await ann.page.screenshot({ path: `${SHOTS}/group-request-answered.png` });
  for (const p of [ann, ben, cat]) await expectClean(p);
});

/**
 * Editing a group's info in the browser (README "Groups": group info; SECURITY.md P19): Ann (an
 * admin, desktop) changes the name, description and picture of a group with Ben (a member, phone
 * size); Ben sees them in his chat list, the group's header and its info screen, with a line in
 * the conversation saying who changed what, and no Edit button while only admins may edit. The
 * picture that leaves Ann's page is its re-encoding (no EXIF, no GPS marker, within the state's
 * bound), and Ben's is that 192-pixel one. Once Ann lets members edit, Ben gets the Edit form too. Real host, real build, real vault
 * worker, one browser context each.
 */
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, type Person } from './support/parley';
import { groupRow } from './support/groups';
import { drawnJpeg, GPS_MARKER, withExif } from './support/images';

const SHOTS = 'tests/e2e/screenshots';
const PHONE = { width: 390, height: 844 };
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const groupLog = (page: Page) => page.getByRole('list', { name: 'Group messages' });

test('P19 an admin edits the group name, description and picture; a member sees them in list, header and info, and may not edit', async ({ browser }) => {
  test.setTimeout(180_000);
  const ann = await openPerson(browser, 'ann');
  const ben = await openPerson(browser, 'ben', PHONE);
  people.push(ann, ben);
  for (const p of people) await register(p);
  const before = 'Allotment plot 7';
  const after = 'Allotment & tomatoes';

  await ann.page.getByRole('link', { name: 'New group' }).click();
  await ann.page.getByLabel('Group name').fill(before);
  await ann.page.getByLabel("Members' usernames").fill(ben.name);
  await ann.page.getByRole('button', { name: 'Create group' }).click();
  await expect(ann.page.getByRole('heading', { name: before, level: 1 })).toBeVisible({ timeout: 30_000 });
  await expect(groupRow(ben.page, before)).toContainText('Group · 2', { timeout: 30_000 });

  // Ben, a member while only admins may edit: the info screen is read-only.
  await groupRow(ben.page, before).click();
  await ben.page.getByRole('link', { name: 'Group info' }).click();
  await expect(ben.page.getByRole('heading', { name: before, level: 2 })).toBeVisible();
  await expect(ben.page.getByRole('button', { name: 'Edit', exact: true })).toHaveCount(0);

  // Ann edits: name, description, and a photo carrying EXIF with a GPS position.
  await ann.page.getByRole('link', { name: 'Group info' }).click();
  await ann.page.getByRole('button', { name: 'Edit', exact: true }).click();
  const form = ann.page.getByRole('form', { name: 'Edit group info' });
  await form.getByLabel('Group name').fill(after);
  await form.getByLabel('Description').fill('Watering rota and who has the shed key');
  const original = withExif(await drawnJpeg(ann.page, 1200, 900, 110));
  expect(original.includes(Buffer.from(GPS_MARKER, 'latin1'))).toBe(true);
  await ann.page.locator('#group-avatar-file').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: original });
  await expect(form.locator('img.avatar')).toBeVisible();
  // What leaves the page is a fresh JPEG (avatar-image.ts): no APP1 (EXIF/XMP), no marker, bounded.
  const preview = form.getByTestId('group-avatar-preview');
  await expect(preview).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  const shared = Buffer.from((await preview.getAttribute('src'))!.split(',')[1]!, 'base64');
  expect(shared.readUInt16BE(0)).toBe(0xffd8);
  expect(shared.includes(Buffer.from('Exif', 'latin1'))).toBe(false);
  expect(shared.includes(Buffer.from(GPS_MARKER, 'latin1'))).toBe(false);
  expect(shared.includes(Buffer.from([0xff, 0xe1]))).toBe(false);
  expect(shared.length).toBeLessThanOrEqual(16 * 1024);
  await ann.page.screenshot({ path: `${SHOTS}/group-info-edit-desktop.png` });
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(ann.page.getByRole('heading', { name: after, level: 2 })).toBeVisible();
  await expect(ann.page.getByText('Watering rota and who has the shed key')).toBeVisible();
  await ann.page.screenshot({ path: `${SHOTS}/group-info-desktop.png` });

  // Ben's info screen follows, still without Edit, with the picture (192 px: the re-encoded one).
  await expect(ben.page.getByRole('heading', { name: after, level: 2 })).toBeVisible({ timeout: 30_000 });
  await expect(ben.page.getByText('Watering rota and who has the shed key')).toBeVisible();
  const infoPicture = ben.page.locator('.body img.avatar').first();
  await expect(infoPicture).toBeVisible();
  await expect.poll(() => infoPicture.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([192, 192]);
  await expect(ben.page.getByRole('button', { name: 'Edit', exact: true })).toHaveCount(0);
  await ben.page.screenshot({ path: `${SHOTS}/group-info-phone.png` });

  // Header and conversation: the new name and picture, and who changed what.
  await ben.page.getByRole('link', { name: 'Back to the group' }).click();
  await expect(ben.page.getByRole('heading', { name: after, level: 1 })).toBeVisible();
  await expect(ben.page.locator('header.head img.avatar')).toBeVisible();
  await expect(groupLog(ben.page)).toContainText(`${ann.name} changed the group name to “${after}”`);
  await expect(groupLog(ben.page)).toContainText(`${ann.name} changed the group description`);
  await expect(groupLog(ben.page)).toContainText(`${ann.name} changed the group picture`);
  await ben.page.screenshot({ path: `${SHOTS}/group-header-phone.png` });

  // The chat list row: new name, the picture as its avatar.
  await ben.page.getByRole('link', { name: 'Back to chats' }).click();
  await expect(groupRow(ben.page, after).locator('img.avatar')).toBeVisible({ timeout: 30_000 });
  await expect(groupRow(ben.page, before)).toHaveCount(0);
  await ben.page.screenshot({ path: `${SHOTS}/group-list-phone.png` });
  await expect(groupRow(ann.page, after).locator('img.avatar')).toBeVisible();

  // Ann opens editing to members: Ben gets the Edit form and his rename reaches Ann.
  await ann.page.getByLabel('Only admins can edit info').uncheck();
  await groupRow(ben.page, after).click();
  await ben.page.getByRole('link', { name: 'Group info' }).click();
  await ben.page.getByRole('button', { name: 'Edit', exact: true }).click({ timeout: 30_000 });
  await ben.page.getByRole('form', { name: 'Edit group info' }).getByLabel('Group name').fill('Shed key rota');
  await ben.page.screenshot({ path: `${SHOTS}/group-info-edit-phone.png` });
  await ben.page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(ben.page.getByRole('heading', { name: 'Shed key rota', level: 2 })).toBeVisible();
  await expect(ann.page.getByRole('heading', { name: 'Shed key rota', level: 2 })).toBeVisible({ timeout: 30_000 });

  for (const p of people) await expectClean(p);
});

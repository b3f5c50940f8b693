/**
 * Files and voice notes in groups (README "Groups": files in groups; SECURITY.md P45), three
 * people in separate browser contexts against the real host, the real build and real vault
 * workers. Ann sends a photo to the group: it is uploaded once and Ben and Cat both see its
 * thumbnail and open it full size. Ben records a voice note from the (fake) microphone: Ann and
 * Cat see its length and waveform, and Cat plays it. A blob the host changes on its way to Cat is
 * refused and said so.
 */
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, type Person } from './support/parley';
import { acceptGroupRequest, createGroup, groupRow } from './support/groups';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const SHOTS = 'tests/e2e/screenshots';
const groupLog = (page: Page) => page.getByRole('list', { name: 'Group messages' });
const BLOB = /\/api\/v1\/blobs\/[0-9a-f]{32}$/;

async function openGroup(p: Person, name: string): Promise<void> {
  await groupRow(p.page, name).click();
  await expect(p.page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

/** A JPEG the browser draws (a sky and a sun), as a camera photo would arrive. */
async function photo(page: Page): Promise<Buffer> {
  const url = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 800;
    c.height = 500;
    const g = c.getContext('2d')!;
    const grad = g.createLinearGradient(0, 0, 0, 500);
    grad.addColorStop(0, 'hsl(205 75% 55%)');
    grad.addColorStop(1, 'hsl(35 85% 60%)');
    g.fillStyle = grad;
    g.fillRect(0, 0, 800, 500);
    g.fillStyle = 'hsl(50 100% 70%)';
    g.beginPath();
    g.arc(560, 170, 90, 0, Math.PI * 2);
    g.fill();
    return c.toDataURL('image/jpeg', 0.9);
  });
  return Buffer.from(url.split(',')[1]!, 'base64');
}

test('P45 three people: a photo and a voice note in a group, one upload each, opened and played by every member; a changed blob is refused', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben, cat] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben'), await openPerson(browser, 'cat')];
  people.push(ann, ben, cat);
  for (const p of people) await register(p);
  const name = 'Summit team';
  await createGroup(ann, name, [ben, cat]);
  // Ann wrote to neither: the group is a request for each (P42), which sends no receipts until accepted.
  for (const p of [ben, cat]) {
    await acceptGroupRequest(p, name, ann);
    await openGroup(p, name);
  }

  // Ann's photo: previewed, then sent with ONE blob upload (the host's POST /blobs, counted here).
  let created = 0;
  ann.page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/v1/blobs')) created++;
  });
  await ann.page.getByTestId('attach-input').setInputFiles({ name: 'summit.jpg', mimeType: 'image/jpeg', buffer: await photo(ann.page) });
  await expect(ann.page.getByTestId('attach-panel')).toBeVisible();
  await ann.page.getByTestId('attach-panel').getByRole('button', { name: 'Send' }).click();
  await expect(ann.page.getByTestId('attach-panel')).toHaveCount(0, { timeout: 30_000 });
  expect(created).toBe(1);
  await expect(groupLog(ann.page).locator('li.msg.out').getByTestId('thumbnail')).toBeVisible();
  for (const p of [ben, cat]) {
    const mine = groupLog(p.page).locator('li.msg', { hasText: ann.name });
    await expect(mine.getByTestId('thumbnail')).toBeVisible({ timeout: 30_000 });
  }
  // Both members stored the pointer (they have the group open, so it may already be read).
  await expect(groupLog(ann.page).locator('li.msg.out').getByRole('button', { name: /^(Delivered to|Read by) 2 of 2$/ })).toBeVisible({ timeout: 30_000 });
  // The members' bubbles say the photo is not here yet (its size, on a chip); the sender's, whose
  // upload kept a whole copy, says nothing.
  const benPhoto = groupLog(ben.page).locator('li.msg', { hasText: ann.name }).getByTestId('open-image');
  await expect(benPhoto.getByTestId('photo-not-here')).toHaveText(/^\d+(\.\d)? KB$/);
  await expect(groupLog(ann.page).locator('li.msg.out').getByTestId('attachment')).toHaveAttribute('data-held', '1');
  await expect(groupLog(ann.page).getByTestId('photo-not-here')).toHaveCount(0);
  await ben.page.screenshot({ path: `${SHOTS}/group-files-photo.png` });
  // Ben opens it full size: downloaded, checked and decrypted in his vault.
  await groupLog(ben.page).getByRole('button', { name: 'Open photo summit.jpg, Not downloaded', exact: true }).click();
  const full = ben.page.getByTestId('full-image');
  await expect(full).toBeVisible({ timeout: 30_000 });
  // Now whole in his vault: the chip is gone.
  await expect(benPhoto.getByTestId('photo-not-here')).toHaveCount(0);
  expect(await full.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(800);
  await ben.page.screenshot({ path: `${SHOTS}/group-files-full.png` });
  await ben.page.getByRole('button', { name: 'Close', exact: true }).click();

  // Ben's voice note from the fake microphone, sent to the group.
  await ben.page.getByRole('button', { name: 'Record a voice message' }).click();
  await expect(ben.page.getByRole('timer')).toHaveAccessibleName('Recording, 0:02', { timeout: 10_000 });
  await ben.page.getByRole('button', { name: 'Send voice message' }).click();
  await expect(ben.page.getByTestId('voice-tray')).toHaveCount(0, { timeout: 30_000 });
  await expect(groupLog(ben.page).locator('li.msg.out').getByTestId('voice-note')).toBeVisible();
  for (const p of [ann, cat]) {
    const note = groupLog(p.page).locator('li.msg', { hasText: ben.name }).getByTestId('voice-note');
    await expect(note).toBeVisible({ timeout: 30_000 });
    await expect(note.getByTestId('voice-clock')).toHaveText(/^0:0[2-4]$/);
  }
  const note = groupLog(cat.page).locator('li.msg', { hasText: ben.name }).getByTestId('voice-note');
  await note.getByRole('button', { name: 'Play voice message' }).click();
  await expect(note.getByRole('button', { name: 'Pause voice message' })).toBeVisible({ timeout: 20_000 });
  // The decrypted bytes really decode as audio and play.
  await expect.poll(() => note.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 10_000 }).toBeGreaterThan(0.2);
  await cat.page.screenshot({ path: `${SHOTS}/group-files-voice.png` });
  await ann.page.screenshot({ path: `${SHOTS}/group-files-sender.png` });

  // The host changes a byte of the photo on its way to Cat: refused, said so, never shown.
  await cat.context.route(BLOB, async (route) => {
    const res = await route.fetch();
    const body = await res.body();
    await route.fulfill({ response: res, body: Buffer.from(body.map((b, i) => (i === 100 ? b ^ 1 : b))) });
  });
  const pic = groupLog(cat.page).locator('li.msg', { hasText: ann.name }).filter({ has: cat.page.getByTestId('thumbnail') });
  await pic.getByRole('button', { name: 'Open photo summit.jpg, Not downloaded', exact: true }).click();
  await expect(pic.getByTestId('attachment-error')).toHaveText('This file was changed in transit and was not opened.', { timeout: 30_000 });
  await expect(cat.page.getByTestId('full-image')).toHaveCount(0);
  await cat.page.screenshot({ path: `${SHOTS}/group-files-tampered.png` });
  await cat.context.unroute(BLOB);

  // The chat list says what arrived last.
  await cat.page.goto('/chats');
  await expect(groupRow(cat.page, name)).toContainText('🎤 Voice message', { timeout: 30_000 });
  for (const p of people) await expectClean(p);
});

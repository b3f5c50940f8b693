/**
 * Private profiles in the browser (SECURITY.md P43): three people set a display name, an about
 * text and a picture; the picture is re-encoded in the page, so the EXIF block of the JPEG alice
 * picks (GPS position and a description marker) is gone from what is shared; names and pictures
 * show in the chat list and the conversation header of the people they write to, always with the
 * username beside them. Real host, real build, real vault worker, one browser context each.
 */
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, send, startChat, type Person } from './support/parley';
import { drawnJpeg, GPS_MARKER, withExif } from './support/images';

const SHOTS = 'tests/e2e/screenshots';
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

/** Settings -> Profile: name, about, picture; answers the bytes the page will share. */
async function setProfile(p: Person, name: string, about: string, picture: Buffer): Promise<Buffer> {
  await p.page.getByRole('link', { name: 'Settings' }).click();
  await expect(p.page.getByRole('heading', { name: 'Profile' })).toBeVisible();
  await p.page.getByRole('textbox', { name: 'Display name' }).fill(name);
  await p.page.getByRole('textbox', { name: 'About you' }).fill(about);
  await p.page.locator('#avatar-file').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: picture });
  const preview = p.page.getByTestId('avatar-preview');
  await expect(preview).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  const shared = Buffer.from((await preview.getAttribute('src'))!.split(',')[1]!, 'base64');
  await p.page.getByRole('button', { name: 'Save profile' }).click();
  await expect(p.page.getByText('Saved. People you write to see it.')).toBeVisible();
  return shared;
}

function row(page: Page, username: string) {
  return page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`@${username}\\b`) });
}

/** A stranger's first text waits under "Message requests" (P42), already with the name it shared. */
function requestRow(page: Page, username: string) {
  return page.getByRole('list', { name: 'Message requests' }).getByRole('link', { name: new RegExp(`@${username}\\b`) });
}

test('P43 three people with names and pictures: shown in chat list and header with the username; EXIF and GPS are stripped', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  const carol = await openPerson(browser, 'carol');
  people.push(alice, bob, carol);
  for (const p of people) await register(p);

  const original = withExif(await drawnJpeg(alice.page, 1200, 900, 200));
  expect(original.includes(Buffer.from(GPS_MARKER, 'latin1'))).toBe(true);
  const shared = await setProfile(alice, 'Alice Liddell', 'Curiouser and curiouser', original);
  // P43: what leaves the page is a fresh JPEG: no APP1 (EXIF/XMP) segment, no marker, bounded size.
  expect(shared.readUInt16BE(0)).toBe(0xffd8);
  expect(shared.includes(Buffer.from('Exif', 'latin1'))).toBe(false);
  expect(shared.includes(Buffer.from(GPS_MARKER, 'latin1'))).toBe(false);
  expect(shared.includes(Buffer.from([0xff, 0xe1]))).toBe(false);
  expect(shared.length).toBeLessThanOrEqual(30_000);
  await setProfile(bob, 'Bob the Builder', 'Can we fix it?', await drawnJpeg(bob.page, 640, 640, 20));
  await setProfile(carol, 'Carol Danvers', 'Higher, further, faster', await drawnJpeg(carol.page, 500, 800, 120));

  await startChat(alice, bob.name);
  await send(alice, bob.name, 'Hi Bob, it is Alice');
  await startChat(alice, carol.name);
  await send(alice, carol.name, 'Hi Carol, it is Alice');
  for (const p of [bob, carol]) {
    await expect(requestRow(p.page, alice.name)).toContainText('Alice Liddell', { timeout: 30_000 });
    await requestRow(p.page, alice.name).click();
    // Replying accepts the request (P42): the chat moves to the conversations, and alice gets our key.
    await send(p, alice.name, `Hello Alice, ${p === bob ? 'Bob' : 'Carol'} here`);
    await expect(row(p.page, alice.name)).toContainText('Alice Liddell');
  }

  await expect(row(alice.page, bob.name)).toContainText('Bob the Builder', { timeout: 30_000 });
  await expect(row(alice.page, carol.name)).toContainText('Carol Danvers', { timeout: 30_000 });
  await expect(row(alice.page, bob.name).locator('img.avatar')).toBeVisible();
  await expect(row(alice.page, carol.name).locator('img.avatar')).toBeVisible();
  await row(alice.page, bob.name).click();
  const header = alice.page.getByRole('heading', { level: 1, name: new RegExp(`Bob the Builder @${bob.name}`) });
  await expect(header).toBeVisible();
  await expect(alice.page.locator('header img.avatar')).toBeVisible();
  await alice.page.screenshot({ path: `${SHOTS}/profiles-alice.png` });

  await expect(bob.page.getByRole('heading', { level: 1, name: new RegExp(`Alice Liddell @${alice.name}`) })).toBeVisible();
  await expect(row(bob.page, alice.name).locator('img.avatar')).toBeVisible();
  await bob.page.screenshot({ path: `${SHOTS}/profiles-bob.png` });
  // bob and carol never wrote to each other: neither knows the other's profile (not even a chat).
  await expect(row(bob.page, carol.name)).toHaveCount(0);
  for (const p of people) await expectClean(p);
});

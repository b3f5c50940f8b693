/**
 * Private profiles in the browser (SECURITY.md P43): three people set a display name, an about
 * text and a picture; the picture is re-encoded in the page, so the EXIF block of the JPEG alice
 * picks (GPS position and a description marker) is gone from what is shared; names and pictures
 * show in the chat list and the conversation header of the people they write to, always with the
 * username beside them. Real host, real build, real vault worker, one browser context each.
 */
import { expect, test, type Page } from '@playwright/test';
import { expectClean, openPerson, register, send, startChat, type Person } from './support/parley';

const SHOTS = 'tests/e2e/screenshots';
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const GPS_MARKER = 'PARLEY-EXIF-MARKER the secret garden';

/** A big-endian TIFF with ImageDescription and a GPS IFD (latitude N 52° 22' 8"), wrapped as APP1. */
function exifSegment(): Buffer {
  const desc = Buffer.from(GPS_MARKER + '\0', 'latin1');
  const t = Buffer.alloc(92 + desc.length);
  t.write('MM', 0, 'latin1');
  t.writeUInt16BE(42, 2);
  t.writeUInt32BE(8, 4);
  t.writeUInt16BE(2, 8); // IFD0: 2 entries
  t.writeUInt16BE(0x010e, 10); // ImageDescription, ASCII
  t.writeUInt16BE(2, 12);
  t.writeUInt32BE(desc.length, 14);
  t.writeUInt32BE(92, 18);
  t.writeUInt16BE(0x8825, 22); // GPSInfo IFD pointer
  t.writeUInt16BE(4, 24);
  t.writeUInt32BE(1, 26);
  t.writeUInt32BE(38, 30);
  t.writeUInt32BE(0, 34);
  t.writeUInt16BE(2, 38); // GPS IFD: 2 entries
  t.writeUInt16BE(0x0001, 40); // GPSLatitudeRef "N"
  t.writeUInt16BE(2, 42);
  t.writeUInt32BE(2, 44);
  t.write('N\0\0\0', 48, 'latin1');
  t.writeUInt16BE(0x0002, 52); // GPSLatitude, 3 rationals
  t.writeUInt16BE(5, 54);
  t.writeUInt32BE(3, 56);
  t.writeUInt32BE(68, 60);
  t.writeUInt32BE(0, 64);
  [52, 1, 22, 1, 8, 1].forEach((v, i) => t.writeUInt32BE(v, 68 + i * 4));
  desc.copy(t, 92);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), t]);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** A photo-like JPEG drawn by the browser, `w` x `h`, in `hue`. */
async function drawnJpeg(page: Page, w: number, h: number, hue: number): Promise<Buffer> {
  const url = await page.evaluate(
    ([w, h, hue]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, w, h);
      grad.addColorStop(0, `hsl(${hue} 70% 60%)`);
      grad.addColorStop(1, `hsl(${(hue + 60) % 360} 70% 35%)`);
      g.fillStyle = grad;
      g.fillRect(0, 0, w, h);
      g.fillStyle = 'rgba(255,255,255,0.85)';
      g.beginPath();
      g.arc(w / 2, h / 2.4, Math.min(w, h) / 5, 0, Math.PI * 2);
      g.fill();
      g.fillRect(w / 2 - Math.min(w, h) / 3.5, h / 1.6, Math.min(w, h) / 1.75, h);
      return c.toDataURL('image/jpeg', 0.92);
    },
    [w, h, hue] as const
  );
  return Buffer.from(url.split(',')[1]!, 'base64');
}

function withExif(jpeg: Buffer): Buffer {
  expect(jpeg.readUInt16BE(0)).toBe(0xffd8);
  return Buffer.concat([jpeg.subarray(0, 2), exifSegment(), jpeg.subarray(2)]);
}

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

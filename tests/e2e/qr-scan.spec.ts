/**
 * P3 "verification binds key bytes": alice verifies bob by pointing her camera at the code on
 * bob's screen. Her browser's camera is Chromium's fake capture device fed a Y4M file made from
 * what bob's contact screen shows (support/fake-camera.ts). A picture without a code keeps the
 * scanner waiting; alice's own code is refused ("does not match"); bob's code verifies him. The
 * vault checks the payload against the key it marks — the page decides nothing.
 */
import { chromium, expect, test } from '@playwright/test';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blankLuma, lumaOf, writeY4m } from './support/fake-camera';
import { installGuard } from './support/guard';
import { expectClean, openPerson, register, send, startChat, uniqueName, type Person } from './support/parley';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('P3 scanning the code on the other screen verifies; a code that is not theirs is refused', async ({ browser, baseURL }) => {
  test.setTimeout(150_000);
  const video = join(mkdtempSync(join(tmpdir(), 'parley-camera-')), 'camera.y4m');
  writeY4m(video, blankLuma());
  const cameraBrowser = await chromium.launch({
    // The same Chromium as the config's (PLAYWRIGHT_CHROMIUM_PATH, /usr/bin/chromium, then Playwright's).
    executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined),
    args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`]
  });
  try {
    const context = await cameraBrowser.newContext({ baseURL: baseURL!, viewport: { width: 390, height: 844 }, permissions: ['camera'] });
    const page = await context.newPage();
    const alice: Person = { name: uniqueName('alice'), context, page, guard: await installGuard(page) };
    const bob = await openPerson(browser, 'bob');
    people.push(bob);
    await register(alice);
    await register(bob);
    await startChat(alice, bob.name);
    await send(alice, bob.name, 'let us compare codes');
    await startChat(bob, alice.name);
    for (const p of [alice, bob]) await p.page.getByRole('link', { name: /^Safety number and settings for / }).click();
    const bobsCode = bob.page.getByRole('img', { name: `QR code of your safety number with ${alice.name}` });
    const alicesCode = page.getByRole('img', { name: `QR code of your safety number with ${bob.name}` });
    await expect(bobsCode).toBeVisible();
    await expect(alicesCode).toBeVisible();

    // Nothing to read: the camera view waits.
    await page.getByRole('button', { name: 'Scan their code' }).click();
    await expect(page.getByRole('status').filter({ hasText: `Point the camera at the code on ${bob.name}'s screen` })).toBeVisible();
    await page.waitForTimeout(600); // a few frames decoded, none holds a code
    await page.screenshot({ path: `${DIR}contact-scanner-phone.png` });
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Alice's own code is not bob's: refused, nothing marked.
    writeY4m(video, await lumaOf(alicesCode));
    await page.getByRole('button', { name: 'Scan their code' }).click();
    await expect(page.getByText('That code does not match.')).toBeVisible();
    await expect(page.getByText('Not verified')).toBeVisible();
    await page.screenshot({ path: `${DIR}contact-scan-mismatch-phone.png` });

    // Bob's code: verified.
    writeY4m(video, await lumaOf(bobsCode));
    await page.getByRole('button', { name: 'Scan their code' }).click();
    await expect(page.getByText(`Codes match: ${bob.name} is verified.`)).toBeVisible();
    await expect(page.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
    await page.screenshot({ path: `${DIR}contact-scan-verified-phone.png` });
    await expectClean(alice);
    await context.close();
  } finally {
    await cameraBrowser.close();
  }
});

/**
 * Voice notes (README "Voice notes"; SECURITY.md P45): alice records from the (fake) microphone,
 * sees the level and the clock, sends; bob sees a voice message with its length and waveform
 * before fetching anything, plays it (the vault fetches, checks and decrypts the blob; the audio
 * really decodes and advances) and changes the speed. The microphone is released after sending.
 * Deleting a recording sends nothing. Real host, real build, real vault workers.
 */
import { expect, test } from '@playwright/test';
import { acquainted, bubbles, chatRow, expectClean, openChat, openPerson, register, send, startChat, type Person } from './support/parley';

const SHOTS = 'tests/e2e/screenshots';
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

/** Live microphone tracks the page holds (the recorder must stop them once it is done). */
const liveMicTracks = (p: Person) =>
  p.page.evaluate(() => (window as unknown as { __mics?: MediaStreamTrack[] }).__mics?.filter((t) => t.readyState === 'live').length ?? 0);

test('P45 a voice message is recorded, sent encrypted, shown with its length and waveform, played, and sped up', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await alice.page.addInitScript(() => {
    const w = window as unknown as { __mics: MediaStreamTrack[] };
    w.__mics = [];
    const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (c) => {
      const s = await real(c);
      w.__mics.push(...s.getAudioTracks());
      // As a permission prompt would: the grant comes a moment after the click.
      await new Promise((r) => setTimeout(r, 800));
      return s;
    };
  });
  for (const p of [alice, bob]) await register(p);
  // Each knows the other first (a stranger's text is a message request, P42).
  await startChat(alice, bob.name);
  await startChat(bob, alice.name);
  await send(bob, alice.name, 'send me a voice note');

  // Deleting a recording while the microphone is still being granted sends nothing, and the grant,
  // when it comes, is released: nothing records in the background.
  const mics = () => alice.page.evaluate(() => (window as unknown as { __mics: MediaStreamTrack[] }).__mics.length);
  await alice.page.getByRole('button', { name: 'Record a voice message' }).click();
  await expect(alice.page.getByRole('timer')).toBeVisible();
  await alice.page.getByTestId('voice-tray').getByRole('button', { name: 'Delete' }).click();
  await expect(alice.page.getByTestId('voice-tray')).toHaveCount(0);
  await expect.poll(mics).toBe(1);
  await alice.page.waitForTimeout(1000);
  await expect.poll(() => liveMicTracks(alice)).toBe(0);
  // Deleting a recording under way frees the microphone too.
  await alice.page.getByRole('button', { name: 'Record a voice message' }).click();
  await expect(alice.page.getByRole('timer')).toHaveAccessibleName('Recording, 0:01', { timeout: 10_000 });
  await alice.page.getByTestId('voice-tray').getByRole('button', { name: 'Delete' }).click();
  await expect(alice.page.getByTestId('voice-tray')).toHaveCount(0);
  await expect.poll(() => liveMicTracks(alice)).toBe(0);

  await alice.page.getByRole('button', { name: 'Record a voice message' }).click();
  await expect(alice.page.getByRole('timer')).toHaveAccessibleName('Recording, 0:02', { timeout: 10_000 });
  await alice.page.screenshot({ path: `${SHOTS}/voice-recording.png` });
  await alice.page.getByRole('button', { name: 'Send voice message' }).click();
  await expect(alice.page.getByTestId('voice-tray')).toHaveCount(0, { timeout: 30_000 });
  await expect.poll(() => liveMicTracks(alice)).toBe(0);
  await expect(bubbles(alice.page, bob.name).last().getByTestId('voice-note')).toBeVisible();

  // Bob: the list says what it is; the bubble shows the length from the preview, before any download.
  await expect(chatRow(bob.page, alice.name)).toContainText('🎤 Voice message');
  await openChat(bob, alice.name);
  const note = bubbles(bob.page, alice.name).last().getByTestId('voice-note');
  await expect(note).toBeVisible();
  await expect(note.getByTestId('voice-clock')).toHaveText(/^0:0[2-4]$/);
  const bars = await note.locator('.wave span').count();
  expect(bars).toBeGreaterThan(10);
  // The fake microphone's beeps make a waveform that is not flat.
  const heights = await note.locator('.wave span').evaluateAll((s) => s.map((e) => (e as HTMLElement).style.height));
  expect(new Set(heights).size).toBeGreaterThan(1);

  // Not in bob's vault yet: the play button carries a download mark and says so; alice's, whose
  // upload kept the note, does not.
  await expect(note.getByTestId('voice-not-here')).toBeVisible();
  const hers = bubbles(alice.page, bob.name).last();
  await expect(hers.getByTestId('attachment')).toHaveAttribute('data-held', '1');
  await expect(hers.getByTestId('voice-not-here')).toHaveCount(0);
  await bob.page.screenshot({ path: `${SHOTS}/voice-not-downloaded.png` });
  await note.getByRole('button', { name: 'Play voice message, Not downloaded', exact: true }).click();
  await expect(note.getByRole('button', { name: 'Pause voice message' })).toBeVisible({ timeout: 20_000 });
  await expect(note.getByTestId('voice-not-here')).toHaveCount(0);
  // The decrypted bytes really decode as audio and play.
  await expect.poll(() => note.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 10_000 }).toBeGreaterThan(0.2);
  await note.getByRole('button', { name: 'Playback speed 1×' }).click();
  await expect(note.getByRole('button', { name: 'Playback speed 1.5×' })).toBeVisible();
  expect(await note.locator('audio').evaluate((a: HTMLAudioElement) => a.playbackRate)).toBe(1.5);
  await expect(note.getByRole('slider', { name: 'Position in voice message' })).toHaveAttribute('aria-valuetext', /of 0:0[2-4]$/);
  await bob.page.screenshot({ path: `${SHOTS}/voice-playing.png` });
  await expect(note.getByRole('button', { name: 'Play voice message', exact: true })).toBeVisible({ timeout: 10_000 });

  for (const p of [alice, bob]) await expectClean(p);
});

test('P45 a voice message whose upload failed resumes on Retry: the same recording, one blob on the host', async ({ browser }) => {
  test.setTimeout(90_000);
  const [alice, bob] = await acquainted(browser, people, 'send me a voice note');

  // The vault's blob requests (from its worker): creations counted, part uploads cut until the
  // vault gives up for now (it tries each part a few times) and says so.
  let created = 0;
  let cut = 0;
  let failing = true;
  await alice.context.route(/\/api\/v1\/blobs$/, async (route) => {
    if (route.request().method() === 'POST') created++;
    await route.continue();
  });
  await alice.context.route(/\/api\/v1\/blobs\/[0-9a-f]{32}\?offset=\d+$/, async (route) => {
    if (route.request().method() === 'PUT' && failing) {
      cut++;
      return route.abort('connectionreset');
    }
    await route.continue();
  });

  await alice.page.getByRole('button', { name: 'Record a voice message' }).click();
  await expect(alice.page.getByRole('timer')).toHaveAccessibleName('Recording, 0:01', { timeout: 10_000 });
  const tray = alice.page.getByTestId('voice-tray');
  await tray.getByRole('button', { name: 'Send voice message' }).click();
  await expect(tray).toContainText('Sending failed', { timeout: 30_000 });
  expect(cut).toBeGreaterThan(0);
  failing = false;
  await tray.getByRole('button', { name: 'Retry' }).click();
  await expect(tray).toHaveCount(0, { timeout: 30_000 });
  // Retry went on with the blob the failed attempt created instead of uploading a second one.
  expect(created).toBe(1);
  await expect(bubbles(bob.page, alice.name).last().getByTestId('voice-note')).toBeVisible({ timeout: 30_000 });
  for (const p of [alice, bob]) await expectClean(p);
});

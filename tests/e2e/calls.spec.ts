/**
 * Calls end to end (DESIGN.md §6): voice and video calls between two people in separate Chromium contexts with
 * fake camera and microphone, against the real host (PeerServer at /peerjs) and the real vault
 * worker (offer/answer inside the Double Ratchet). Media is proven with getStats counters.
 */
import { expect, test } from '@playwright/test';
import { expectClean, startChat, type Person } from './support/parley';
import { brightness, callEntries, expectRising, expectVerified, growth, openCaller, overlay, placeCall, rtp } from './support/calls';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

async function pair(browser: import('@playwright/test').Browser, o: { ringTimeoutMs?: number } = {}) {
  const alice = await openCaller(browser, 'alice', o);
  const bob = await openCaller(browser, 'bob', o);
  people.push(alice, bob);
  await startChat(alice, bob.name);
  // P42: a stranger's calls never ring, so bob knows alice too.
  await startChat(bob, alice.name);
  return { alice, bob };
}

test('a voice call connects, both sides receive audio, mute silences it, hang-up ends both', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(alice.page)).toContainText('Calling…');
  await expect(overlay(bob.page)).toContainText(`Incoming voice call`);
  await expect(overlay(bob.page)).toContainText(alice.name);
  await bob.page.getByRole('button', { name: 'Accept' }).click();

  await expectVerified(alice.page);
  await expectVerified(bob.page);
  await expectRising(alice.page, (r) => r.inAudioPackets);
  await expectRising(bob.page, (r) => r.inAudioPackets);
  expect((await rtp(alice.page)).inVideoPackets).toBe(0);

  // Mute: Alice's microphone track is disabled, so Bob hears silence (no audio energy arrives).
  const before = await growth(bob.page, (r) => r.inAudioEnergy, 2500);
  await alice.page.getByRole('button', { name: 'Mute' }).click();
  await expect(alice.page.getByRole('button', { name: 'Unmute' })).toHaveAttribute('aria-pressed', 'true');
  await alice.page.waitForTimeout(500);
  const after = await growth(bob.page, (r) => r.inAudioEnergy, 2500);
  console.log('audio energy before/after mute', before, after);
  expect(before).toBeGreaterThan(0);
  expect(after).toBeLessThan(before / 10);

  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(overlay(alice.page)).toContainText('Call ended');
  await expect(overlay(bob.page)).toContainText('Call ended');
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'completed');
  await alice.page.getByRole('button', { name: 'Close' }).click();
  await expect(overlay(alice.page)).toHaveCount(0);
  await expect(callEntries(alice.page, bob.name)).toContainText(/Outgoing voice call · \d+:\d\d/);
  await expectClean(alice);
  await expectClean(bob);
});

test('a video call connects, both sides receive video, camera off stops it', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  await placeCall(alice, bob.name, 'Video');
  await expect(overlay(bob.page)).toContainText('Incoming video call');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await expectVerified(bob.page);
  await expectRising(alice.page, (r) => r.inVideoFrames);
  await expectRising(bob.page, (r) => r.inVideoFrames);
  await expectRising(bob.page, (r) => r.inAudioPackets);
  await expect(bob.page.getByLabel(`Video from ${alice.name}`)).toBeVisible();
  await expect(bob.page.getByLabel('Your camera')).toBeVisible();

  // Camera off: Alice's camera track is disabled, so she sends black frames at a trickle and Bob
  // sees black where her picture was.
  const remote = `Video from ${alice.name}`;
  await expect.poll(() => brightness(bob.page, remote)).toBeGreaterThan(40);
  const bytesBefore = await growth(alice.page, (r) => r.outVideoBytes, 2500);
  await alice.page.getByRole('button', { name: 'Camera off' }).click();
  await expect(alice.page.getByRole('button', { name: 'Camera on' })).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => brightness(bob.page, remote)).toBeLessThan(5);
  // What still goes out is black frames: a fraction of the bytes (observed 10–30 %).
  const bytesAfter = await growth(alice.page, (r) => r.outVideoBytes, 2500);
  console.log('video bytes sent in 2.5 s before/after camera off', bytesBefore, bytesAfter);
  expect(bytesAfter).toBeLessThan(bytesBefore / 2);
  await alice.page.getByRole('button', { name: 'Camera on' }).click();
  await expect.poll(() => brightness(bob.page, remote)).toBeGreaterThan(40);
  // Bob's own camera still reaches Alice.
  await expectRising(alice.page, (r) => r.inVideoFrames);

  await bob.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(overlay(alice.page)).toContainText('Call ended');
  await expect(overlay(bob.page)).toContainText('Call ended');
  await expectClean(alice);
  await expectClean(bob);
});

test('a dropped peer ends the call cleanly on the other side, with its entry', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  await placeCall(alice, bob.name, 'Voice');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await expectRising(alice.page, (r) => r.inAudioPackets);
  await bob.context.close(); // Bob's device vanishes: no hangup message, the network just stops
  people.splice(people.indexOf(bob), 1);
  await expect(overlay(alice.page)).toContainText(/Call ended|Connection lost/, { timeout: 20_000 });
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'completed');
});

test('P29 relay-only mode never falls back to a direct connection: without TURN it refuses to call', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  await alice.page.getByRole('link', { name: `Safety number and settings for ${bob.name}` }).click();
  await alice.page.getByRole('checkbox', { name: /Relay calls to hide my IP address/ }).check();
  await alice.page.getByRole('link', { name: 'Back to conversation' }).click();
  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(alice.page).getByRole('alert')).toContainText('Relay-only calls are on, but this host offers no TURN relay');
  // No connection was ever negotiated (PeerJS's own feature probe creates an idle one at load).
  expect(await alice.page.evaluate(() => (window.__pcs ?? []).filter((pc) => pc.localDescription).length)).toBe(0);
  await bob.page.waitForTimeout(1000);
  await expect(overlay(bob.page)).toHaveCount(0);
});

test('P29 while it rings, the callee sends nothing towards the caller: its prepared offer and ICE candidates leave on accept', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  const sent: { type: string; at: number }[] = [];
  await bob.page.routeWebSocket(/\/peerjs\/peerjs\?/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((raw) => {
      const m = JSON.parse(String(raw)) as { type: string };
      if (m.type !== 'HEARTBEAT') sent.push({ type: m.type, at: Date.now() });
      server.send(raw);
    });
  });
  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  // The call to Alice is built while ringing (a negotiated local offer exists), but held.
  await expect.poll(() => bob.page.evaluate(() => (window.__pcs ?? []).filter((pc) => pc.localDescription?.type === 'offer').length)).toBe(1);
  await bob.page.waitForTimeout(1000);
  expect(sent).toEqual([]);
  const accepted = Date.now();
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(bob.page);
  expect(sent.map((m) => m.type)).toContain('OFFER');
  expect(sent.every((m) => m.at >= accepted)).toBe(true);
});

test('screen share replaces the camera on the wire and stopping it brings the camera back', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  await placeCall(alice, bob.name, 'Video');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await expectVerified(bob.page);
  const remote = `Video from ${alice.name}`;
  await expect.poll(() => brightness(bob.page, remote)).toBeGreaterThan(40);
  const cameraTrack = await alice.page.evaluate(() => window.__pcs!.at(-1)!.getSenders().find((s) => s.track?.kind === 'video')!.track!.label);
  await alice.page.getByRole('button', { name: 'Share screen' }).click();
  await expect(alice.page.getByRole('button', { name: 'Stop sharing' })).toHaveAttribute('aria-pressed', 'true');
  const sharedTrack = await alice.page.evaluate(() => window.__pcs!.at(-1)!.getSenders().find((s) => s.track?.kind === 'video')!.track!.label);
  expect(sharedTrack).not.toBe(cameraTrack);
  await expectRising(bob.page, (r) => r.inVideoFrames);
  await alice.page.getByRole('button', { name: 'Stop sharing' }).click();
  await expect(alice.page.getByRole('button', { name: 'Share screen' })).toHaveAttribute('aria-pressed', 'false');
  const back = await alice.page.evaluate(() => window.__pcs!.at(-1)!.getSenders().find((s) => s.track?.kind === 'video')!.track!.label);
  expect(back).toBe(cameraTrack);
});

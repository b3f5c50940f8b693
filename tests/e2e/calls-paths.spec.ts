/**
 * DESIGN.md §6: the calls that do not connect — declined, busy, unanswered (ring timeout, shortened
 * for the test through the same setting the app reads), camera/microphone refused — each leaves
 * the right entry in both conversations and a clear message; plus the screenshots of the incoming,
 * in-call (voice and video) and ended screens.
 */
import { expect, test, type Browser } from '@playwright/test';
import { openChat, startChat, type Person } from './support/parley';
import { callEntries, expectRising, expectVerified, holdCallSendReplies, openCaller, overlay, placeCall } from './support/calls';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const SHOTS = 'tests/e2e/screenshots';

async function pair(browser: Browser, o: { ringTimeoutMs?: number } = {}) {
  const alice = await openCaller(browser, 'alice', o);
  const bob = await openCaller(browser, 'bob', o);
  people.push(alice, bob);
  await startChat(alice, bob.name);
  // P42: a stranger's calls never ring, so bob knows alice too.
  await startChat(bob, alice.name);
  return { alice, bob };
}

test('declined: the caller is told, both conversations show a declined call', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  await bob.page.screenshot({ path: `${SHOTS}/calls-incoming.png` });
  await bob.page.getByRole('button', { name: 'Decline' }).click();
  await expect(overlay(alice.page)).toContainText(`${bob.name} declined the call`);
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'declined');
  await expect(callEntries(alice.page, bob.name)).toContainText('Voice call declined');
  await bob.page.getByRole('button', { name: 'Close' }).click();
  await openChat(bob, alice.name);
  await expect(callEntries(bob.page, alice.name)).toHaveAttribute('data-outcome', 'declined');
  await expect(callEntries(bob.page, alice.name)).toContainText('Declined voice call');
});

test('busy: a second caller gets "on another call" while the first call goes on', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  const carol = await openCaller(browser, 'carol');
  people.push(carol);
  await startChat(carol, bob.name);
  await startChat(bob, carol.name);

  await placeCall(alice, bob.name, 'Voice');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(bob.page);

  await placeCall(carol, bob.name, 'Video');
  await expect(overlay(carol.page)).toContainText(`${bob.name} is on another call`);
  await expect(callEntries(carol.page, bob.name)).toHaveAttribute('data-outcome', 'busy');
  // Bob's call with Alice is undisturbed.
  await expectVerified(bob.page);
  await expectRising(bob.page, (r) => r.inAudioPackets);
  await bob.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(overlay(alice.page)).toContainText('Call ended');
  await bob.page.getByRole('button', { name: 'Close' }).click();
  await openChat(bob, carol.name);
  await expect(callEntries(bob.page, carol.name)).toHaveAttribute('data-outcome', 'busy');
  await expect(callEntries(bob.page, carol.name)).toContainText('Missed video call (you were on another call)');
});

test('ring timeout: nobody answers, the caller sees "No answer", the callee a missed call', async ({ browser }) => {
  const { alice, bob } = await pair(browser, { ringTimeoutMs: 4000 });
  await placeCall(alice, bob.name, 'Video');
  await expect(overlay(bob.page)).toContainText('Incoming video call');
  await expect(overlay(alice.page)).toContainText('No answer', { timeout: 15_000 });
  await expect(overlay(bob.page)).toContainText('Missed call', { timeout: 15_000 });
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'missed');
  await expect(callEntries(alice.page, bob.name)).toContainText('Video call · no answer');
  await bob.page.getByRole('button', { name: 'Close' }).click();
  await openChat(bob, alice.name);
  await expect(callEntries(bob.page, alice.name)).toContainText('Missed video call');
});

test('an answer and a verified connection that come before the page hears its signal was stored arm no timeout after it', async ({ browser }) => {
  // The caller's ring timeout and the callee's connect timeout are short; each would end this call
  // if it were armed when the late confirmation of the offer or the answer arrives.
  const alice = await openCaller(browser, 'alice', { ringTimeoutMs: 6000 });
  const bob = await openCaller(browser, 'bob', { connectTimeoutMs: 6000 });
  people.push(alice, bob);
  await startChat(alice, bob.name);
  await startChat(bob, alice.name);
  const held = [await holdCallSendReplies(alice.page), await holdCallSendReplies(bob.page)];
  await alice.page.reload();
  await bob.page.reload();
  await openChat(alice, bob.name);

  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await expectVerified(bob.page);
  // Only now does each page hear that its offer (Alice) and answer (Bob) were stored.
  for (const h of held) expect(await h.release()).toBeGreaterThanOrEqual(1);
  await alice.page.waitForTimeout(8000);
  await expect(overlay(alice.page)).toContainText('end-to-end verified');
  await expect(overlay(bob.page)).toContainText('end-to-end verified');
  await expectRising(alice.page, (r) => r.inAudioPackets);
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(overlay(bob.page)).toContainText('Call ended');
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'completed');
});

test('the PeerServer says the caller left before the callee\'s call was answered: both sides end at once, not at the connect timeout', async ({ browser }) => {
  // PeerJS closes a call that has no answer yet without a word (no 'close' event, no state event
  // on its RTCPeerConnection) when told the other id left. The host withholds Bob's offer and
  // tells him Alice's id left; the connect timeout stays at its 30 s default.
  const { alice, bob } = await pair(browser);
  let left = 0;
  await bob.page.routeWebSocket(/\/peerjs\/peerjs\?/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((raw) => {
      const m = JSON.parse(String(raw)) as { type: string; dst?: string };
      if (m.type !== 'OFFER') return server.send(raw);
      left++;
      ws.send(JSON.stringify({ type: 'LEAVE', src: m.dst }));
    });
  });
  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  const accepted = Date.now();
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expect(overlay(bob.page)).toContainText('Connection lost', { timeout: 10_000 });
  // Alice hears of it inside the ratchet, long before her own connect timeout.
  await expect(overlay(alice.page)).toContainText('Call ended', { timeout: 10_000 });
  expect(Date.now() - accepted).toBeLessThan(20_000);
  expect(left).toBe(1);
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'cancelled');
  await bob.page.getByRole('button', { name: 'Close' }).click();
  await openChat(bob, alice.name);
  await expect(callEntries(bob.page, alice.name)).toHaveAttribute('data-outcome', 'failed');
});

test('camera or microphone refused: a clear explanation, nobody is rung', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  // As after "Block" in the browser's prompt: the permission reads denied and getUserMedia refuses.
  await alice.page.evaluate(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    const query = navigator.permissions.query.bind(navigator.permissions);
    navigator.permissions.query = (d) => (d.name === 'camera' ? Promise.resolve({ state: 'denied' } as PermissionStatus) : query(d));
  });
  await placeCall(alice, bob.name, 'Video');
  await expect(overlay(alice.page).getByRole('alert')).toContainText('Parley needs your camera and microphone for this call');
  await expect(overlay(alice.page)).toContainText('Call failed');
  await bob.page.waitForTimeout(1500);
  await expect(overlay(bob.page)).toHaveCount(0);
});

test('screenshots: in a voice call, in a video call, and ended', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  await placeCall(alice, bob.name, 'Voice');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await alice.page.waitForTimeout(1200);
  await alice.page.screenshot({ path: `${SHOTS}/calls-in-voice.png` });
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(overlay(bob.page)).toContainText('Call ended');
  await bob.page.screenshot({ path: `${SHOTS}/calls-ended.png` });
  await alice.page.getByRole('button', { name: 'Close' }).click();
  await bob.page.getByRole('button', { name: 'Close' }).click();

  await openChat(bob, alice.name);
  await placeCall(bob, alice.name, 'Video');
  await alice.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await expectRising(alice.page, (r) => r.inVideoFrames, 30);
  await alice.page.screenshot({ path: `${SHOTS}/calls-in-video.png` });
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(overlay(bob.page)).toContainText('Call ended');
  await bob.page.getByRole('button', { name: 'Close' }).click();
  await alice.page.getByRole('button', { name: 'Close' }).click();
  await alice.page.screenshot({ path: `${SHOTS}/calls-entries.png` });
});

test('two tabs of the callee both ring; answering in one silences the other, and the call connects there', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  const second = await bob.context.newPage();
  await second.goto('/chats');
  await expect(second.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible();

  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  await expect(overlay(second)).toContainText('Incoming voice call');
  await second.getByRole('button', { name: 'Accept' }).click();
  await expect(overlay(bob.page)).toHaveCount(0);
  await expectVerified(alice.page);
  await expectVerified(second);
  await expectRising(alice.page, (r) => r.inAudioPackets);

  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'completed');
  await openChat({ ...bob, page: second }, alice.name);
  // One entry, the accepting tab's: the silenced tab wrote no "missed call".
  await expect(callEntries(second, alice.name)).toHaveCount(1);
  await expect(callEntries(second, alice.name)).toHaveAttribute('data-outcome', 'completed');
});

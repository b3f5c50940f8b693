/**
 * SECURITY.md P27 / P28 in the browser: the signalling path (PeerServer WebSocket) is hostile.
 * Playwright's WebSocket routing plays the malicious host: it sits between each page and the real
 * PeerServer and rewrites, diverts or holds PeerJS messages. In every case the call must fail as
 * "could not be verified" on BOTH sides, and no media may reach the impostor.
 */
import { expect, test, type Browser, type Page, type WebSocketRoute } from '@playwright/test';
import { startChat, type Person } from './support/parley';
import { callEntries, impostorAnswers, impostorCalls, openCaller, overlay, peerIdOf, placeCall, rtp } from './support/calls';

const people: Person[] = [];
const extra: { close(): Promise<void> }[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
  for (const c of extra.splice(0)) await c.close();
});

const SIGNALLING = /\/peerjs\/peerjs\?/;
const FAKE_FP = Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0').toUpperCase()).join(':');

type Msg = { type: string; src?: string; dst?: string; payload?: { sdp?: { type: string; sdp: string } } };

async function pair(browser: Browser) {
  const alice = await openCaller(browser, 'alice');
  const bob = await openCaller(browser, 'bob');
  people.push(alice, bob);
  await startChat(alice, bob.name);
  // P42: a stranger's calls never ring, so bob knows alice too.
  await startChat(bob, alice.name);
  return { alice, bob };
}

/** A page whose signalling socket is relayed by `edit` (return undefined to drop a message). */
async function hostile(page: Page, edit: { up?: (m: Msg, ws: WebSocketRoute) => Msg | undefined; down?: (m: Msg) => Msg | undefined }, seen?: (ws: WebSocketRoute) => void) {
  await page.routeWebSocket(SIGNALLING, (ws) => {
    seen?.(ws);
    const server = ws.connectToServer();
    ws.onMessage((raw) => {
      const m = edit.up ? edit.up(JSON.parse(String(raw)) as Msg, ws) : (JSON.parse(String(raw)) as Msg);
      if (m) server.send(JSON.stringify(m));
    });
    server.onMessage((raw) => {
      const m = edit.down ? edit.down(JSON.parse(String(raw)) as Msg) : (JSON.parse(String(raw)) as Msg);
      if (m) ws.send(JSON.stringify(m));
    });
  });
}

function randomPeerId(): string {
  return Array.from({ length: 16 }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
}

async function impostorPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  extra.push(context);
  await context.grantPermissions(['camera', 'microphone']);
  const page = await context.newPage();
  await page.goto('/');
  return page;
}

async function impostorPackets(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { __impostor?: RTCPeerConnection }).__impostor;
    if (!pc) return 0;
    let n = 0;
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp') n += Number(s.packetsReceived ?? 0);
    });
    return n;
  });
}

async function expectUnverifiedBothSides(alice: Person, bob: Person): Promise<void> {
  await expect(overlay(alice.page)).toContainText('Call could not be verified');
  await expect(overlay(bob.page)).toContainText('Call could not be verified');
  await expect(overlay(alice.page).getByRole('alert')).toContainText('did not match the keys exchanged in your encrypted chat');
  expect((await rtp(alice.page)).inAudioPackets).toBe(0);
  expect((await rtp(bob.page)).inAudioPackets).toBe(0);
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'unverified');
}

// Who dials whom (src/lib/client/calls/connection.ts): once Bob accepts, HIS peer places the
// PeerJS call to Alice's fresh id, while his answer travels inside the ratchet.

test('P27 a signalling host that rewrites a=fingerprint makes the call fail as unverified on both sides', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  const rewrite = (m: Msg): Msg => {
    if (m.payload?.sdp?.sdp) m.payload.sdp.sdp = m.payload.sdp.sdp.replace(/a=fingerprint:sha-256 \S+/g, `a=fingerprint:sha-256 ${FAKE_FP}`);
    return m;
  };
  let rewritten = 0;
  await hostile(alice.page, { up: rewrite, down: rewrite });
  await hostile(bob.page, { up: (m) => (m.type === 'OFFER' && rewritten++, rewrite(m)), down: rewrite });

  await placeCall(alice, bob.name, 'Voice');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectUnverifiedBothSides(alice, bob);
  expect(rewritten).toBeGreaterThan(0);
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/calls-unverified.png' });
});

test('P27 a signalling host that calls alice in bob\'s place makes the call fail as unverified on both sides', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  const mallory = await impostorPage(browser);
  const malloryId = randomPeerId();

  let aliceId = '';
  let bobId = '';
  let dropped = 0;
  await hostile(alice.page, {
    // Mallory's call reaches Alice as if it came from Bob's id; Alice's replies go to Mallory.
    up: (m) => (bobId && m.dst === bobId ? { ...m, dst: malloryId } : m),
    down: (m) => (m.src === malloryId ? { ...m, src: bobId } : m)
  }, (ws) => (aliceId = peerIdOf(ws.url())));
  // Bob's real call never leaves his side.
  await hostile(bob.page, { up: (m) => (m.dst === aliceId ? (dropped++, undefined) : m) }, (ws) => (bobId = peerIdOf(ws.url())));

  await placeCall(alice, bob.name, 'Voice');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expect.poll(() => dropped, { timeout: 15_000 }).toBeGreaterThan(0);
  await impostorCalls(mallory, malloryId, aliceId);
  await expectUnverifiedBothSides(alice, bob);
  expect(aliceId).toMatch(/^[0-9a-f]{32}$/);
  await mallory.waitForTimeout(1500);
  expect(await impostorPackets(mallory)).toBe(0);
});

test('P27 a signalling host that diverts bob\'s call to an impostor answering in alice\'s place fails as unverified on both sides', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  const mallory = await impostorPage(browser);
  const malloryId = randomPeerId();
  await impostorAnswers(mallory, malloryId);

  let aliceId = '';
  await hostile(alice.page, {}, (ws) => (aliceId = peerIdOf(ws.url())));
  // The host delivers Bob's call for Alice's id to Mallory, and Mallory's replies as if from Alice.
  await hostile(bob.page, {
    up: (m) => (aliceId && m.dst === aliceId ? { ...m, dst: malloryId } : m),
    down: (m) => (m.src === malloryId ? { ...m, src: aliceId } : m)
  });

  await placeCall(alice, bob.name, 'Voice');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectUnverifiedBothSides(alice, bob);
  await mallory.waitForTimeout(1500);
  expect(await impostorPackets(mallory)).toBe(0);
});

test('P28 taking over alice\'s peer id after she disconnects does not produce a call', async ({ browser }) => {
  const { alice, bob } = await pair(browser);
  const mallory = await impostorPage(browser);

  let aliceId = '';
  let aliceSocket: WebSocketRoute | undefined;
  let connections = 0;
  await alice.page.routeWebSocket(SIGNALLING, (ws) => {
    aliceId = peerIdOf(ws.url());
    if (connections++ > 0) return void ws.close(); // Alice's network stays down
    aliceSocket = ws;
    ws.connectToServer();
  });
  // Bob's call to Alice's id is held until Mallory has taken the id over.
  const held: string[] = [];
  let release: ((m: string) => void) | undefined;
  let takenOver = false;
  await bob.page.routeWebSocket(SIGNALLING, (ws) => {
    const server = ws.connectToServer();
    release = (m) => server.send(m);
    ws.onMessage((raw) => {
      const m = JSON.parse(String(raw)) as Msg;
      if (aliceId && m.dst === aliceId && !takenOver) held.push(String(raw));
      else server.send(raw);
    });
  });

  await placeCall(alice, bob.name, 'Voice');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expect.poll(() => held.length, { timeout: 15_000 }).toBeGreaterThan(0);
  await aliceSocket!.close(); // Alice drops off the PeerServer; her id is free again
  await expect.poll(async () => {
    try {
      await impostorAnswers(mallory, aliceId);
      return true;
    } catch {
      return false;
    }
  }, { timeout: 10_000 }).toBe(true);
  takenOver = true;
  for (const m of held.splice(0)) release!(m);

  await expectUnverifiedBothSides(alice, bob);
  await mallory.waitForTimeout(1500);
  expect(await impostorPackets(mallory)).toBe(0);
});

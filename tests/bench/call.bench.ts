/**
 * Call set-up time on loopback in headless Chromium (DESIGN.md §6):
 *
 *   npm run bench:call [-- --json] [-- --runs=N]
 *
 * Parley: the real host (build/ + PeerServer at /peerjs) in its own process, two browser contexts
 * with fake camera/microphone, accounts and a session already set up (a text each way), and a
 * warm-up call. Measured: caller clicks "Video call" -> offer inside the ratchet -> callee
 * auto-accepts (its Accept button is clicked the moment it appears) -> answer inside the ratchet
 * and, at the same time, the callee's PeerJS call -> both fingerprint checks -> until BOTH sides
 * receive remote media (the first remote track's `unmute`, then RTP counted in getStats).
 * Bare PeerJS, same run, same host: two pages with long-lived Peers already open (no per-call id,
 * no certificate, no end-to-end step, no app); caller gets media and calls, callee auto-answers
 * with media. Like PeerJS's own video-call example, each page shows its camera and the other's
 * video (the same two players, sized as in Parley's call screen): a call that nobody sees or hears
 * is not a call, and Parley pays for showing it too. Both stop their camera and microphone after
 * each call, as Parley does. Otherwise the favourable case for PeerJS: no per-call peer, no STUN.
 * `--also-unshown` adds, for comparison only, bare PeerJS that shows nothing (not in --json).
 *
 * Parley and bare runs alternate (same machine load for both). Reports medians. With --json the last stdout line is exactly
 * {"parley":{"setupMs":N},"peerjs":{"setupMs":N}}. Target: Parley <= 1.3 x bare PeerJS.
 * Needs `vite build` first (build/ is served).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { intArg, launchChromium, onboard as register, openChat, requireBuild, ROOT, startHost } from './browser-rig';
import { median } from './harness';

const json = process.argv.includes('--json');
const RUNS = intArg('runs', 7);
const TARGET = 1.3;
const alsoUnshown = process.argv.includes('--also-unshown');
const log = (s = '') => {
  if (!json) console.log(s);
};

declare global {
  interface Window {
    __pcs?: RTCPeerConnection[];
    __firstMedia?: number;
    __armed?: number;
    peerjs?: { Peer: new (id: string, o: object) => BarePeer };
    __bare?: { call(to: string): void };
  }
}
interface BareCall {
  on(e: 'stream', f: (remote: MediaStream) => void): void;
  answer(s: MediaStream): void;
}
interface BarePeer {
  on(e: string, f: (x: never) => void): void;
  call(id: string, s: MediaStream): BareCall;
}

const fakeMedia = ['--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-gpu'];

/**
 * Records every RTCPeerConnection and, once armed, the first moment remote media arrives: a
 * remote track's `unmute`, which Chromium fires when the first RTP packet for it is received.
 * (Polling getStats() is no good here: Chromium caches the stats report for about 50 ms, which
 * quantises the result by as much as the difference being measured.)
 */
function trackPcs(): void {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      window.__pcs!.push(this);
      const armed = window.__armed;
      this.addEventListener('track', (ev) => {
        const hit = () => {
          if (armed !== undefined && window.__armed === armed && window.__firstMedia === undefined) window.__firstMedia = Date.now();
        };
        if (!ev.track.muted) hit();
        else ev.track.addEventListener('unmute', hit, { once: true });
      });
    }
  };
}

/** Arms the watch for peer connections created from now on (a new generation each run). */
async function armMediaWatch(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.__firstMedia = undefined;
    window.__armed = (window.__armed ?? 0) + 1;
  });
}

/** When remote media first arrived; then checks that RTP really is counted as received. */
async function mediaAt(page: Page): Promise<number> {
  await page.waitForFunction(() => window.__firstMedia !== undefined, undefined, { timeout: 30_000, polling: 10 });
  await page.waitForFunction(
    async () => {
      let n = 0;
      (await window.__pcs!.at(-1)!.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') n += Number(s.packetsReceived ?? 0);
      });
      return n > 0;
    },
    undefined,
    { timeout: 10_000, polling: 20 }
  );
  return page.evaluate(() => window.__firstMedia!);
}

async function onboard(browser: Browser, base: string, name: string): Promise<Page> {
  const context = await browser.newContext();
  await context.grantPermissions(['camera', 'microphone']);
  // tsx (esbuild keepNames) wraps functions in __name(); functions shipped to the page need it too.
  await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  const page = await context.newPage();
  await page.addInitScript(trackPcs);
  return register(page, base, name);
}

async function say(page: Page, other: string, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: `Message ${other}` });
  await box.fill(text);
  await box.press('Enter');
}

/** Clicks Accept the instant the incoming-call screen shows it. */
async function autoAccept(page: Page): Promise<void> {
  await page.evaluate(() => {
    const find = () => [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Accept');
    new MutationObserver(() => find()?.click()).observe(document.body, { childList: true, subtree: true });
  });
}

interface Rig {
  run(): Promise<number>;
  close(): Promise<void>;
}

async function parleyRig(browser: Browser, base: string): Promise<Rig> {
  const tag = Date.now().toString(36).slice(-6);
  const alice = await onboard(browser, base, `a_${tag}`);
  const bob = await onboard(browser, base, `b_${tag}`);
  await openChat(alice, `b_${tag}`);
  await say(alice, `b_${tag}`, 'hi');
  await bob.getByRole('link', { name: new RegExp(`^a_${tag}`) }).click();
  await say(bob, `a_${tag}`, 'hello');
  await alice.getByRole('log').getByText('hello').waitFor();
  await autoAccept(bob);

  return {
    async run() {
      await Promise.all([armMediaWatch(alice), armMediaWatch(bob)]);
      const t0 = await alice.evaluate((name) => {
        const b = [...document.querySelectorAll('button')].find((x) => x.getAttribute('aria-label') === `Video call ${name}`)!;
        const t = Date.now();
        b.click();
        return t;
      }, `b_${tag}`);
      const [a, b] = await Promise.all([mediaAt(alice), mediaAt(bob)]);
      await alice.getByRole('button', { name: 'Hang up' }).click();
      await alice.getByRole('button', { name: 'Close' }).click();
      await bob.getByRole('button', { name: 'Close' }).click().catch(() => undefined);
      await bob.getByRole('dialog').waitFor({ state: 'detached' });
      return Math.max(a, b) - t0;
    },
    async close() {
      await alice.context().close();
      await bob.context().close();
    }
  };
}

/** The two players of a minimal call page, placed like Parley's (CallScreen.svelte). */
const BARE_PLAYERS =
  '<video id="remote" autoplay playsinline style="position:fixed;inset:0;width:100%;height:100%;object-fit:contain;background:#000"></video>' +
  '<video id="local" autoplay playsinline muted style="position:fixed;right:1rem;bottom:6.5rem;width:220px;aspect-ratio:4/3;object-fit:cover"></video>';

async function barePage(browser: Browser, base: string, id: string, show: boolean): Promise<Page> {
  const context = await browser.newContext();
  await context.grantPermissions(['camera', 'microphone']);
  // tsx (esbuild keepNames) wraps functions in __name(); functions shipped to the page need it too.
  await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  const page = await context.newPage();
  await page.addInitScript(trackPcs);
  await page.goto(base + '/peerjs'); // same origin, no app: just a document to host PeerJS
  await page.addScriptTag({ path: join(ROOT, 'node_modules/peerjs/dist/peerjs.min.js') });
  const u = new URL(base);
  await page.evaluate(
    ({ id, host, port, players }) =>
      new Promise<void>((resolve) => {
        document.body.innerHTML = players;
        const video = (which: string) => document.getElementById(which) as HTMLVideoElement | null;
        const peer = new window.peerjs!.Peer(id, { host, port, path: '/peerjs', key: 'peerjs', debug: 0 });
        // As in PeerJS's example: show our camera, and the other side's stream when it comes.
        const show = (local: MediaStream, call: BareCall) => {
          const own = video('local');
          if (own) own.srcObject = local;
          call.on('stream', (remote) => {
            const theirs = video('remote');
            if (theirs) theirs.srcObject = remote;
          });
          return call;
        };
        window.__bare = {
          call: (to) => void navigator.mediaDevices.getUserMedia({ audio: true, video: true }).then((s) => show(s, peer.call(to, s)))
        };
        peer.on('open', () => resolve());
        peer.on('call', (call: BareCall) => {
          void navigator.mediaDevices.getUserMedia({ audio: true, video: true }).then((s) => show(s, call).answer(s));
        });
      }),
    { id, host: u.hostname, port: Number(u.port), players: show ? BARE_PLAYERS : '' }
  );
  return page;
}

async function bareRig(browser: Browser, base: string, show: boolean): Promise<Rig> {
  const hex = () => Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const calleeId = hex();
  const caller = await barePage(browser, base, hex(), show);
  const callee = await barePage(browser, base, calleeId, show);
  return {
    async run() {
      await Promise.all([armMediaWatch(caller), armMediaWatch(callee)]);
      const t0 = await caller.evaluate((id) => {
        const t = Date.now();
        window.__bare!.call(id);
        return t;
      }, calleeId);
      const [a, b] = await Promise.all([mediaAt(caller), mediaAt(callee)]);
      for (const p of [caller, callee]) {
        await p.evaluate(() => {
          for (const pc of window.__pcs!) {
            pc.getSenders().forEach((x) => x.track?.stop());
            pc.close();
          }
          document.querySelectorAll('video').forEach((v) => (v.srcObject = null));
        });
      }
      return Math.max(a, b) - t0;
    },
    async close() {
      await caller.context().close();
      await callee.context().close();
    }
  };
}

async function main(): Promise<void> {
  requireBuild();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-call-'));
  const host = await startHost(dataDir);
  const base = host.url.replace('127.0.0.1', 'localhost');
  const browser = await launchChromium(fakeMedia);
  try {
    log(`call set-up on loopback, ${RUNS} runs each after a warm-up (video call: audio + video), interleaved`);
    const rigs: Record<string, Rig> = { parley: await parleyRig(browser, base), peerjs: await bareRig(browser, base, true) };
    if (alsoUnshown) rigs.unshown = await bareRig(browser, base, false);
    const times: Record<string, number[]> = { parley: [], peerjs: [], unshown: [] };
    // Interleaved, so all see the same machine load; run 0 of each is the warm-up.
    for (let i = 0; i <= RUNS; i++) {
      for (const [k, rig] of Object.entries(rigs)) {
        const ms = await rig.run();
        if (i > 0) times[k]!.push(ms);
        log(`  ${k.padEnd(7)} ${i === 0 ? 'warm-up' : `run ${i}`}: ${ms} ms`);
      }
    }
    for (const rig of Object.values(rigs)) await rig.close();
    const parley = median(times.parley!);
    const peerjs = median(times.peerjs!);
    log('');
    log(`parley  median ${parley.toFixed(0)} ms  (E2E offer/answer in the ratchet, per-call cert + id, fingerprint checks)`);
    log(`peerjs  median ${peerjs.toFixed(0)} ms  (bare, peers pre-opened, media shown as in PeerJS's example)`);
    if (alsoUnshown) log(`unshown median ${median(times.unshown!).toFixed(0)} ms  (bare, media not shown; Parley is ${(parley / median(times.unshown!)).toFixed(2)}x this)`);
    log(`ratio   ${(parley / peerjs).toFixed(2)}x  (target <= ${TARGET}x) ${parley <= TARGET * peerjs ? 'OK' : 'OVER TARGET'}`);
    if (json) console.log(JSON.stringify({ parley: { setupMs: Math.round(parley) }, peerjs: { setupMs: Math.round(peerjs) } }));
  } finally {
    await browser.close();
    await host.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

await main();

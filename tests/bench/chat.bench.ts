/**
 * A long conversation in real Chromium against the built app and the real host:
 *
 *   npm run bench:chat [-- --json] [-- --runs=N] [-- --messages=N]
 *
 * Two accounts register through the UI; Alice writes to Bob once (a real session), then 10,000
 * texts are written into Alice's vault by the worker's own storage code running in her page
 * (chat-seed.ts: loadVault + the message and chat repositories, sealed as the engine seals them).
 * Each run then reloads /chats and measures, in the page's own clock:
 *   openMs  click on the chat -> the frame after the newest bubble is in the DOM (first paint);
 *   sendMs  the Enter keydown -> the frame after the new bubble is in the DOM (median of 3 sends
 *           per run, each typed for 1 s after the chat opened or the last send);
 *   heapMB  used JS heap after a forced GC, page + vault worker (CDP Runtime.getHeapUsage).
 * Run 0 is a warm-up. Reports medians with min–max. With --json the last stdout line is
 * {"messages":N,"openMs":N,"sendMs":N,"heapMB":N}. Targets: open <= 200 ms, send <= 50 ms,
 * heap <= 100 MB. Needs `vite build` first (build/ is served).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, CDPSession, Page } from '@playwright/test';
import { intArg, launchChromium, onboard as register, openChat, requireBuild, startHost } from './browser-rig';
import { median } from './harness';
import { seedConversation } from '../e2e/support/seed';

const json = process.argv.includes('--json');
const RUNS = intArg('runs', 5);
const MESSAGES = intArg('messages', 10_000);
const TARGET = { openMs: 200, sendMs: 50, heapMB: 100 };
/** Texts sent per run (its sendMs is their median), each after a pause as long as typing one. */
const SENDS = 3;
const TYPING_MS = 1000;
const log = (s = '') => {
  if (!json) console.log(s);
};

declare global {
  interface Window {
    __sendDone?: Promise<number>;
  }
}

async function onboard(browser: Browser, base: string, name: string): Promise<Page> {
  // The seed script is added as a script tag, which the app's CSP would (rightly) refuse.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
  await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  return register(await context.newPage(), base, name);
}

/** Click on the chat row -> the frame after the bubble with `newest` is in the DOM. */
async function timeOpen(page: Page, other: string, newest: string): Promise<number> {
  const row = page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${other}\\b`) });
  await row.waitFor();
  const handle = await row.elementHandle();
  return page.evaluate(
    ({ el, newest }) =>
      new Promise<number>((resolve) => {
        const t0 = performance.now();
        const found = () => [...document.querySelectorAll('[role=log] [data-testid=message] .text')].some((n) => n.textContent === newest);
        const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
        const obs = new MutationObserver(() => {
          if (found()) {
            obs.disconnect();
            done();
          }
        });
        obs.observe(document.body, { childList: true, subtree: true, characterData: true });
        (el as HTMLElement).click();
      }),
    { el: handle!, newest }
  );
}

/** Enter keydown -> the frame after the bubble with `text` is in the DOM. */
async function timeSend(page: Page, other: string, text: string): Promise<number> {
  const box = page.getByRole('textbox', { name: `Message ${other}` });
  await box.fill(text);
  await page.evaluate((text) => {
    window.__sendDone = new Promise<number>((resolve) => {
      let t0 = 0;
      window.addEventListener('keydown', (e) => e.key === 'Enter' && (t0 = e.timeStamp), { capture: true, once: true });
      const found = () => [...document.querySelectorAll('[role=log] [data-testid=message] .text')].some((n) => n.textContent === text);
      const obs = new MutationObserver(() => {
        if (found()) {
          obs.disconnect();
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
        }
      });
      obs.observe(document.body, { childList: true, subtree: true, characterData: true });
    });
  }, text);
  await box.press('Enter');
  return page.evaluate(() => window.__sendDone!);
}

/** Used JS heap after a GC: the page, plus every dedicated worker of the browser (the vault). */
async function heapMB(browser: Browser, pageCdp: CDPSession): Promise<{ page: number; worker: number }> {
  await pageCdp.send('HeapProfiler.collectGarbage');
  const page = (await pageCdp.send('Runtime.getHeapUsage')).usedSize;
  const b = await browser.newBrowserCDPSession();
  let worker = 0;
  try {
    const { targetInfos } = await b.send('Target.getTargets');
    for (const t of targetInfos.filter((t) => t.type === 'worker')) {
      const { sessionId } = await b.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
      let next = 1;
      const call = (method: string) =>
        new Promise<Record<string, number>>((resolve) => {
          const id = next++;
          const on = (e: { sessionId?: string; message: string }) => {
            const m = JSON.parse(e.message) as { id?: number; result?: Record<string, number> };
            if (e.sessionId === sessionId && m.id === id) {
              b.off('Target.receivedMessageFromTarget', on);
              resolve(m.result ?? {});
            }
          };
          b.on('Target.receivedMessageFromTarget', on);
          void b.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
        });
      await call('HeapProfiler.collectGarbage');
      worker += (await call('Runtime.getHeapUsage')).usedSize ?? 0;
      await b.send('Target.detachFromTarget', { sessionId });
    }
  } finally {
    await b.detach();
  }
  return { page: page / 2 ** 20, worker: worker / 2 ** 20 };
}

const spread = (xs: number[]) => `median ${median(xs).toFixed(1)}  min ${Math.min(...xs).toFixed(1)}  max ${Math.max(...xs).toFixed(1)}  [${xs.map((x) => x.toFixed(0)).join(', ')}]`;

async function main(): Promise<void> {
  requireBuild();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-chat-'));
  const host = await startHost(dataDir);
  const base = host.url.replace('127.0.0.1', 'localhost');
  const browser = await launchChromium();
  try {
    const suffix = Date.now().toString(36).slice(-6);
    const [aliceName, bobName] = [`alice_${suffix}`, `bob_${suffix}`];
    const bob = await onboard(browser, base, bobName);
    const alice = await onboard(browser, base, aliceName);
    await openChat(alice, bobName);
    await timeSend(alice, bobName, 'hello');
    await bob.context().close();

    log(`seeding ${MESSAGES} messages into ${aliceName}'s vault through the storage repositories…`);
    const t = Date.now();
    await seedConversation(alice, bobName, MESSAGES);
    log(`  seeded in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    const cdp = await alice.context().newCDPSession(alice);
    const r = { openMs: [] as number[], sendMs: [] as number[], heapMB: [] as number[], pageMB: [] as number[], workerMB: [] as number[] };
    let newest = 'hello';
    for (let i = 0; i <= RUNS; i++) {
      await alice.goto(base + '/chats');
      await alice.getByRole('heading', { name: 'Chats', level: 1 }).waitFor({ timeout: 30_000 });
      const openMs = await timeOpen(alice, bobName, newest);
      // Sends come after the time it takes to type: SENDS per run, each after TYPING_MS.
      const sends: number[] = [];
      for (let k = 0; k < SENDS; k++) {
        await alice.waitForTimeout(TYPING_MS);
        newest = `bench send ${i}.${k}`;
        sends.push(await timeSend(alice, bobName, newest));
      }
      const sendMs = median(sends);
      const heap = await heapMB(browser, cdp);
      log(`  ${i === 0 ? 'warm-up' : `run ${i}  `}: open ${openMs.toFixed(0)} ms, send ${sendMs.toFixed(0)} ms, heap ${(heap.page + heap.worker).toFixed(1)} MB (page ${heap.page.toFixed(1)} + worker ${heap.worker.toFixed(1)})`);
      if (i === 0) continue;
      r.openMs.push(openMs);
      r.sendMs.push(sendMs);
      r.heapMB.push(heap.page + heap.worker);
      r.pageMB.push(heap.page);
      r.workerMB.push(heap.worker);
    }
    log('');
    log(`${MESSAGES} messages, ${RUNS} runs`);
    for (const k of ['openMs', 'sendMs', 'heapMB'] as const) {
      const ok = median(r[k]) <= TARGET[k];
      log(`${k.padEnd(7)} ${spread(r[k])}  (target <= ${TARGET[k]}) ${ok ? 'OK' : 'OVER TARGET'}`);
    }
    log(`  page heap   ${spread(r.pageMB)}`);
    log(`  worker heap ${spread(r.workerMB)}`);
    if (json) console.log(JSON.stringify({ messages: MESSAGES, openMs: Math.round(median(r.openMs)), sendMs: Math.round(median(r.sendMs)), heapMB: Math.round(median(r.heapMB)) }));
  } finally {
    await browser.close();
    await host.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

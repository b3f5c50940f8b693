/**
 * The browser tests' idle stop (support/idle-worker.ts) is honest: it stands in for the idle stop
 * Chromium makes without DevTools, and cannot make a worker activate that the page did not ask to
 * skip waiting (the P39 worker-switch tests rely on both). Hand-made workers on a real host: an
 * outgoing worker that takes 3 s to start, so a skip-waiting ask reaches Chromium while it starts.
 */
import { expect, test, type Page } from '@playwright/test';
import { ownHost, type OwnHost } from './support/builds';
import { stopIdleWorkers } from './support/idle-worker';

let host: OwnHost;
const enc = (s: string) => new TextEncoder().encode(s);
const worker = (slowStart: boolean) => `
${slowStart ? 'const t0 = Date.now(); while (Date.now() - t0 < 3000);' : ''}
self.addEventListener('message', (e) => { if (e.data && e.data.type === 'SKIP_WAITING') self.skipWaiting(); });
self.addEventListener('fetch', (e) => { if (new URL(e.request.url).pathname === '/t/ping') e.respondWith(new Response('pong')); });
`;

test.beforeAll(async () => {
  host = await ownHost();
  await host.serve(
    new Map([
      ['t/page.html', enc('<!doctype html><title>idle worker</title>')],
      ['t/old.js', enc(worker(true))],
      ['t/new.js', enc(worker(false))]
    ])
  );
});
test.afterAll(async () => host?.close());

const states = (page: Page) =>
  page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration('/t/');
    return { active: reg?.active?.scriptURL.split('/').pop(), waiting: reg?.waiting?.state ?? null };
  });

/** The old worker controls the page, the new one waits, and both are stopped. */
async function waitingBehindOld(page: Page): Promise<void> {
  await page.goto(`${host.url}/t/page.html`);
  await page.evaluate(async () => {
    await navigator.serviceWorker.register('/t/old.js', { scope: '/t/' });
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL.split('/').pop())).toBe('old.js');
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.register('/t/new.js', { scope: '/t/' });
    const w = (reg.installing ?? reg.waiting)!;
    await new Promise<void>((resolve) => {
      const on = () => void (w.state === 'installed' && resolve());
      w.addEventListener('statechange', on);
      on();
    });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

test('a waiting worker asked to skip waiting while the outgoing one starts activates once that one is stopped as if idle', async ({ browser }) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await waitingBehindOld(page);
    await page.evaluate(async () => {
      void fetch('/t/ping'); // wakes the outgoing worker: 3 s of starting
      await new Promise((r) => setTimeout(r, 200));
      (await navigator.serviceWorker.getRegistration('/t/'))!.waiting!.postMessage({ type: 'SKIP_WAITING' });
    });
    // With DevTools attached, Chromium leaves it waiting (for five minutes): the reason for the stop.
    await page.waitForTimeout(5_000);
    expect(await states(page), 'Chromium no longer stalls here: support/idle-worker.ts may be unneeded').toEqual({ active: 'old.js', waiting: 'installed' });
    const stops: string[] = [];
    const idle = await stopIdleWorkers(context, (what) => stops.push(what));
    try {
      await expect.poll(() => states(page), { timeout: 15_000 }).toEqual({ active: 'new.js', waiting: null });
      expect(stops).toEqual(['stopped the outgoing service worker /t/old.js: /t/new.js had waited behind it for 5 s (Chromium\'s idle stop without DevTools)']);
    } finally {
      await idle();
    }
  } finally {
    await context.close();
  }
});

test('a waiting worker nobody asked to skip waiting stays waiting when the outgoing one is stopped', async ({ browser }) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await waitingBehindOld(page);
    const stops: string[] = [];
    const idle = await stopIdleWorkers(context, (what) => stops.push(what));
    try {
      expect(await page.evaluate(() => fetch('/t/ping').then((r) => r.text()))).toBe('pong');
      await page.waitForTimeout(8_000);
      expect(stops.length).toBeGreaterThan(0); // the outgoing worker was stopped ...
      expect(await states(page)).toEqual({ active: 'old.js', waiting: 'installed' }); // ... and nothing activated
    } finally {
      await idle();
    }
  } finally {
    await context.close();
  }
});

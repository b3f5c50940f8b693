/**
 * The service worker's static routes (src/lib/client/pwa/sw-routes.ts; README "Attachments (as
 * built)", *Measured*): with the installed worker controlling the page, every `/api/` request —
 * attachment part uploads and ranged downloads included — matches the route to the network and
 * never becomes a fetch event, while app pages, the shell and its assets are not covered by it: a
 * reload is still answered by the service worker from its precache (P30, the offline shell).
 * Chromium reports per response which router rule matched (DevTools protocol
 * `serviceWorkerRouterInfo`), so the test reads the routing itself, not a timing. (DevTools does
 * not report router info for a dedicated worker's requests, so the page issues the vault's kinds
 * of request; routes apply to every client of the registration alike.)
 */
import { expect, test } from '@playwright/test';
import { openPerson, register, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

interface Seen {
  url: string;
  fromServiceWorker: boolean;
  /** The router rule that matched (0: none) and where the response came from. */
  rule: number | undefined;
  source: string | undefined;
}

test('P30 /api requests (attachment parts and ranges included) go past the service worker to the network; app pages and assets still come from it', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await openPerson(browser, 'alice');
  people.push(alice);
  await register(alice);
  expect(await alice.page.evaluate(async () => !!(await navigator.serviceWorker.ready).active)).toBe(true);
  const cdp = await alice.context.newCDPSession(alice.page);
  await cdp.send('Network.enable');
  const seen: Seen[] = [];
  cdp.on('Network.responseReceived', (e) => {
    const info = (e.response as { serviceWorkerRouterInfo?: { ruleIdMatched?: number; actualSourceType?: string } }).serviceWorkerRouterInfo;
    seen.push({ url: e.response.url, fromServiceWorker: e.response.fromServiceWorker ?? false, rule: info?.ruleIdMatched, source: info?.actualSourceType });
  });
  // A navigation under the installed worker: the page and its assets.
  await alice.page.reload();
  await expect.poll(() => alice.page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  await expect(alice.page.getByRole('link', { name: 'New chat', exact: true })).toBeVisible({ timeout: 30_000 });
  // The vault's kinds of request (no bearer here, so the host answers 401; the routing is the same).
  const id = 'ab'.repeat(16);
  const statuses = await alice.page.evaluate(async (id) => {
    const calls: [string, RequestInit][] = [
      ['/api/v1/blobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"size":10}' }],
      [`/api/v1/blobs/${id}?offset=0`, { method: 'PUT', body: new Blob([new Uint8Array(1024)]) }],
      [`/api/v1/blobs/${id}/upload`, {}],
      [`/api/v1/blobs/${id}`, { headers: { Range: 'bytes=0-1023' } }]
    ];
    return Promise.all(calls.map(async ([path, init]) => (await fetch(path, { ...init, cache: 'no-store' })).status));
  }, id);
  expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
  await expect.poll(() => seen.filter((s) => s.url.includes('/api/v1/blobs')).length).toBe(4);

  const origin = new URL(alice.page.url()).origin;
  const api = seen.filter((s) => s.url.startsWith(`${origin}/api/`));
  // Every /api response matched the network route (rule 1) and none came from the fetch handler.
  for (const s of api) expect({ url: s.url, rule: s.rule, source: s.source, sw: s.fromServiceWorker }).toEqual({ url: s.url, rule: 1, source: 'network', sw: false });
  // The page itself and the shell's assets are not covered by the route: the service worker
  // answered the navigation and the assets from its precache.
  const page = seen.find((s) => s.url.startsWith(origin) && new URL(s.url).pathname === new URL(alice.page.url()).pathname);
  expect(page).toMatchObject({ rule: 0, fromServiceWorker: true });
  const assets = seen.filter((s) => s.url.startsWith(`${origin}/_app/`));
  expect(assets.length).toBeGreaterThan(0);
  for (const s of assets) expect({ url: s.url, rule: s.rule, sw: s.fromServiceWorker }).toEqual({ url: s.url, rule: 0, sw: true });
});

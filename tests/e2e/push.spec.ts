/**
 * Web Push with the tab closed (README "Web Push with the tab closed"; P48 in this branch's
 * numbering), in real Chromium against a real host of the spec's own (src/host/server.ts serving
 * build/, started with the loopback push option) and a real push service on loopback
 * (tests/host/push-service.ts).
 *
 * STUBBED: `PushManager.prototype.subscribe` / `getSubscription` (page.addInitScript), because
 * headless Chromium has no push service to subscribe with: the stub records what the page asked
 * for (userVisibleOnly, the applicationServerKey) and answers a subscription whose endpoint is the
 * loopback push service. Everything after that is real: the vault registers the endpoint with the
 * host, the host sends its empty VAPID-signed push to the loopback service when the account has no
 * open tab, and the push reaches the real service worker through Chromium's DevTools protocol
 * (`ServiceWorker.deliverPushMessage`, with a payload the worker must ignore).
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHost, type RunningHost } from '../../src/host/server';
import { PUSH_API } from '../../src/lib/wire/push-api';
import { startPushService, verifyVapid, type PushService } from '../host/push-service';
import { BUILD_DIR } from './support/builds';
import { hostNames } from '../support/host-names';
import { installGuard } from './support/guard';
import { countWorkerShows, notificationsNow } from './support/notifications';
import { register, send, startChat, uniqueName, type Person } from './support/parley';

const shot = (name: string) => fileURLToPath(new URL(`./screenshots/${name}.png`, import.meta.url));

let host: RunningHost;
let service: PushService;
let dataDir: string;
const people: Person[] = [];

test.beforeAll(async () => {
  service = await startPushService();
  dataDir = mkdtempSync(join(tmpdir(), 'parley-push-e2e-'));
  host = await createHost({ port: 0, dataDir, staticDir: BUILD_DIR, push: { allowLoopbackHttp: true, minIntervalMs: 500 } });
});
test.afterAll(async () => {
  for (const p of people.splice(0)) await p.context.close();
  await host?.close();
  await service?.close();
});

async function person(browser: Browser, base: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: host.url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const p = { name: uniqueName(base), context, page, guard: await installGuard(page) };
  people.push(p);
  return p;
}

/** The stand-in for the browser's push service client (see the header): a subscription at `endpoint`. */
function stubPushManager(endpoint: string): void {
  const KEY = '__fakePushSubscribed';
  const w = window as unknown as { __pushAsked?: { userVisibleOnly: boolean; key: number[] } };
  const fake = () => ({
    endpoint,
    unsubscribe: async () => (localStorage.removeItem(KEY), true)
  });
  PushManager.prototype.subscribe = async function (o?: PushSubscriptionOptionsInit) {
    w.__pushAsked = { userVisibleOnly: o?.userVisibleOnly === true, key: [...new Uint8Array(o?.applicationServerKey as ArrayBuffer)] };
    localStorage.setItem(KEY, '1');
    return fake() as unknown as PushSubscription;
  };
  PushManager.prototype.getSubscription = async function () {
    return (localStorage.getItem(KEY) ? fake() : null) as unknown as PushSubscription;
  };
}

function storedEndpoints(): { endpoint: string; username: string }[] {
  const db = new Database(join(dataDir, 'push.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT endpoint, username FROM push_subscriptions').all() as { endpoint: string; username: string }[];
    // The account is stored under its sealed name (README "Usernames at rest").
    return rows.map((r) => ({ ...r, username: hostNames(dataDir).open(r.username) }));
  } finally {
    db.close();
  }
}

/** Delivers a push (with a payload the worker must not show) to the service worker of `origin`, over CDP. */
async function deliverPush(page: Page, data: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const registrations = new Map<string, string>();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
    for (const r of e.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
  });
  await cdp.send('ServiceWorker.enable');
  await expect.poll(() => registrations.get(`${host.url}/`)).toBeTruthy();
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: host.url, registrationId: registrations.get(`${host.url}/`)!, data });
  await cdp.detach();
}

test('P48 with every tab closed the host sends an empty VAPID push and the service worker shows only "New message"; turning it off stops it', async ({ browser }) => {
  const ann = await person(browser, 'ann');
  const ben = await person(browser, 'ben');
  await ben.context.grantPermissions(['notifications'], { origin: host.url });
  await ben.context.addInitScript(stubPushManager, service.endpoint('/push/ben'));
  await register(ann);
  await register(ben);

  // Off by default; on registers the stubbed subscription, made with the host's VAPID key.
  await ben.page.goto('/settings');
  await ben.page.evaluate(() => navigator.serviceWorker.ready);
  const toggle = ben.page.getByRole('checkbox', { name: 'Notifications when Parley is closed', exact: true });
  await expect(toggle).not.toBeChecked();
  expect(storedEndpoints()).toEqual([]);
  await toggle.check();
  await expect(toggle).toBeChecked();
  // The box shows checked as soon as it is clicked; the subscription follows the key fetch.
  const pushAsked = () => ben.page.evaluate(() => (window as unknown as { __pushAsked?: { userVisibleOnly: boolean; key: number[] } }).__pushAsked);
  await expect.poll(pushAsked, { timeout: 30_000 }).toBeTruthy();
  const asked = (await pushAsked())!;
  const { publicKey } = (await (await fetch(host.url + PUSH_API.key)).json()) as { publicKey: string };
  expect(asked.userVisibleOnly).toBe(true);
  expect(Buffer.from(asked.key).toString('base64url')).toBe(publicKey);
  await expect.poll(storedEndpoints).toEqual([{ endpoint: service.endpoint('/push/ben'), username: ben.name }]);
  await toggle.scrollIntoViewIfNeeded();
  await ben.page.screenshot({ path: shot('push-setting-on') });
  // It stays on across a reload (the browser's subscription is the state).
  await ben.page.reload();
  await expect(toggle).toBeChecked();

  // Ben's tab open and connected: mail reaches the tab, no push.
  await startChat(ann, ben.name);
  await send(ann, ben.name, 'first secret words');
  await expect(ben.page.getByText(ann.name).first()).toBeVisible();
  // Every tab of Ben's closed: the next message makes the host push, empty and VAPID-signed.
  await ben.page.close();
  await new Promise((r) => setTimeout(r, 700));
  expect(service.received).toHaveLength(0);
  await send(ann, ben.name, 'second secret words');
  await expect.poll(() => service.received.length).toBe(1);
  const push = service.received[0]!;
  expect(push.path).toBe('/push/ben');
  expect(push.bodyBytes).toBe(0);
  expect(verifyVapid(push.headers.authorization, publicKey).aud).toBe(service.origin);

  // The push reaches Ben's service worker with no Parley window open (a blank tab hosts the
  // DevTools session): a generic notification, nothing of the payload or the messages.
  // The worker's shows are counted and the notifications read only after (support/notifications.ts).
  const blank = await ben.context.newPage();
  const workerShows = await countWorkerShows(ben.context);
  await deliverPush(blank, `from ${ann.name}: second secret words`);
  await expect.poll(workerShows).toBe(1);
  const reopened = await ben.context.newPage();
  await reopened.goto('/chats');
  expect(await notificationsNow(reopened)).toEqual([{ title: 'New message', body: '', tag: 'parley-push', data: null }]);

  // A visible Parley window takes it: the worker shows nothing.
  await reopened.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).forEach((n) => n.close()));
  await expect.poll(() => notificationsNow(reopened)).toEqual([]);
  await deliverPush(reopened, 'visible window');
  await new Promise((r) => setTimeout(r, 1500));
  expect(await workerShows()).toBe(1);
  expect(await notificationsNow(reopened)).toEqual([]);

  // Off: the host forgets the endpoint and the subscription is dropped.
  await reopened.goto('/settings');
  const again = reopened.getByRole('checkbox', { name: 'Notifications when Parley is closed', exact: true });
  await expect(again).toBeChecked();
  await again.uncheck();
  await expect(again).not.toBeChecked();
  await expect.poll(storedEndpoints).toEqual([]);
  expect(await reopened.evaluate(() => localStorage.getItem('__fakePushSubscribed'))).toBeNull();
  await reopened.close();
  await blank.close();
  await send(ann, ben.name, 'third secret words');
  await new Promise((r) => setTimeout(r, 1000));
  expect(service.received).toHaveLength(1);
});

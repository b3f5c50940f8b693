/**
 * Code updates need consent (SECURITY.md P39) and the code is pinned (P30), against the real
 * build and a real host of the test's own whose files the test swaps (support/builds.ts):
 * - a new build on the host — even one whose service worker calls skipWaiting and claims every
 *   page — does not run, across reloads and a closed and reopened tab, until the user accepts
 *   it; a new build whose files do not match their pins is refused and the old one kept;
 * - a host that replaces the installed worker's own file gets the open page stopped, and then a
 *   blocking consent screen, before the vault worker is even constructed;
 * - an entry script that does not match its SRI pin never runs.
 * Each test has its own browser context (its own service worker and storage).
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { constructedWorkers, installGuard } from './support/guard';
import { stopIdleWorkers } from './support/idle-worker';
import { B_MARK, buildA, buildB, ownHost, patchOne, swPath, type Build, type OwnHost } from './support/builds';
import { register, uniqueName, type Person } from './support/parley';
import { fileURLToPath } from 'node:url';

let a: Build;
let b: Build;
let host: OwnHost;

test.beforeAll(async () => {
  a = await buildA();
  b = await buildB(a);
  host = await ownHost();
});
test.afterAll(async () => host?.close());

const shot = (name: string) => fileURLToPath(new URL(`./screenshots/${name}.png`, import.meta.url));

async function newPage(context: BrowserContext): Promise<Person> {
  const page = await context.newPage();
  return { name: '', context, page, guard: await installGuard(page) };
}

/** The running build as Settings → About shows it. */
async function aboutHash(page: Page, { afterTakeover = false } = {}): Promise<string | null> {
  // Right after a worker takeover the page reloads itself once; a navigation racing that reload is
  // aborted by it, and the next one is not.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto('/settings');
      break;
    } catch (e) {
      if (!afterTakeover || attempt === 3 || !/ERR_ABORTED|context was destroyed|interrupted by another navigation/.test(String(e))) throw e;
      await page.waitForLoadState('load');
    }
  }
  await expect(page.getByRole('heading', { name: /^About this version/ })).toBeVisible();
  return page.locator('code[aria-label^="Build hash "]').getAttribute('data-hash');
}

/** Registers and reloads once, so the page is controlled by the installed worker of `build`. */
async function installed(p: Person, build: Build): Promise<void> {
  p.name = uniqueName('ann');
  await register(p);
  const url = await p.page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  expect(url).toBe(`${host.url}/sw-${build.hash}.js`);
  await p.page.reload();
  await expect.poll(() => p.page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${host.url}/sw-${build.hash}.js`);
}

/** Build B reuses A's file names for changed content, which a real build never does: forget A's copies. */
async function forgetHttpCache(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.clearBrowserCache');
  await cdp.detach();
}

test('P39 a new build whose worker skips waiting runs only once accepted, across reloads and a reopened tab; P30 a build that does not match its pins is refused', async ({ browser }) => {
  test.setTimeout(180_000);
  await host.serve(a.files);
  const context = await browser.newContext({ baseURL: host.url });
  // Chromium's idle stop of an outgoing worker, which DevTools suppresses (support/idle-worker.ts).
  const idle = await stopIdleWorkers(context);
  try {
    const p = await newPage(context);
    await installed(p, a);
    expect(await aboutHash(p.page)).toBe(a.hash);

    // Deploy B. The browser's update check of the installed worker's URL finds nothing new.
    await host.serve(b.files);
    await forgetHttpCache(p.page);
    await p.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update().catch(() => undefined));
    await p.page.reload();
    expect(await aboutHash(p.page)).toBe(a.hash);
    await expect(p.page.getByRole('heading', { name: B_MARK })).toHaveCount(0);
    const toast = p.page.getByRole('alert').filter({ hasText: 'A new version of Parley is available' });
    await expect(toast).toContainText(b.hash.slice(0, 8));
    await p.page.setViewportSize({ width: 390, height: 844 });
    await p.page.screenshot({ path: shot('update-toast-phone') });
    await p.page.setViewportSize({ width: 1280, height: 720 });

    // Closed and reopened: still A.
    await p.page.close();
    const q = await newPage(context);
    expect(await aboutHash(q.page)).toBe(a.hash);
    await q.page.screenshot({ path: shot('settings-about') });

    // B with one file changed after sealing: its worker does not install; A keeps running.
    const broken = new Map(b.files);
    patchOne(broken, B_MARK, 'About this version (tampered)');
    await host.serve(broken);
    await forgetHttpCache(q.page);
    await q.page.getByRole('alert').getByRole('button', { name: 'Update', exact: true }).click();
    await expect(q.page.getByRole('alert')).toContainText('Not updated: the new version failed to install', { timeout: 30_000 });
    await q.page.reload();
    expect(await aboutHash(q.page)).toBe(a.hash);

    // A second tab of A stays open while the user accepts B in the first.
    const r = await newPage(context);
    expect(await aboutHash(r.page)).toBe(a.hash);

    // The user accepts B: it installs, takes over and runs, with no consent screen after.
    await host.serve(b.files);
    await forgetHttpCache(q.page);
    const reloaded = q.page.waitForEvent('framenavigated');
    await q.page.getByRole('alert').getByRole('button', { name: 'Update', exact: true }).click();
    await reloaded;
    expect(await aboutHash(q.page)).toBe(b.hash);
    await expect(q.page.getByRole('heading', { name: B_MARK })).toBeVisible();
    await expect(q.page.getByRole('alert').filter({ hasText: 'new version' })).toHaveCount(0);
    await q.page.reload();
    expect(await aboutHash(q.page)).toBe(b.hash);
    expect(await q.guard.problems(q.page)).toEqual([]);
    // The other tab was taken over by the update the user accepted (there): it reloads into B by
    // itself, never calling it "changed while it was open" (sw-updates.ts, takeover.ts).
    await expect(r.page.locator('code[aria-label^="Build hash "]')).toHaveAttribute('data-hash', b.hash, { timeout: 30_000 });
    await expect(r.page.getByRole('heading', { name: B_MARK })).toBeVisible();
    await expect(r.page.getByRole('alertdialog', { name: 'Parley was changed while it was open' })).toHaveCount(0);
  } finally {
    await idle();
    await context.close();
  }
});

test('P39 a host that replaces the installed worker\'s own file gets the page stopped and a consent screen before the vault starts', async ({ browser }) => {
  test.setTimeout(180_000);
  await host.serve(a.files);
  const context = await browser.newContext({ baseURL: host.url });
  // Chromium's idle stop of an outgoing worker, which DevTools suppresses (support/idle-worker.ts).
  const idle = await stopIdleWorkers(context);
  try {
    const p = await newPage(context);
    await installed(p, a);

    // B everywhere, and B's worker (skipWaiting, claim) at the URL of the installed worker.
    const swapped = new Map(b.files);
    swapped.set(swPath(a.files), b.files.get(swPath(b.files))!);
    await host.serve(swapped);
    await forgetHttpCache(p.page);
    await p.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const stopped = p.page.getByRole('alertdialog', { name: 'Parley was changed while it was open' });
    await expect(stopped).toBeVisible({ timeout: 30_000 });
    await p.page.screenshot({ path: shot('update-replaced') });

    // Reload and a reopened tab: B's code loads, and stops at the consent screen; no vault worker.
    await stopped.getByRole('button', { name: 'Reload to review' }).click();
    const consent = p.page.getByRole('alertdialog', { name: 'This version of Parley is new to you' });
    await expect(consent).toBeVisible();
    await expect(consent.locator('code[data-hash]').first()).toHaveAttribute('data-hash', b.hash);
    await expect(consent.locator('code[data-hash]').last()).toHaveAttribute('data-hash', a.hash);
    expect(await constructedWorkers(p.page)).toEqual([]);
    await p.page.screenshot({ path: shot('update-consent') });
    await p.page.setViewportSize({ width: 390, height: 844 });
    await p.page.screenshot({ path: shot('update-consent-phone') });
    await p.page.close();

    const q = await newPage(context);
    await q.page.goto('/chats');
    await expect(q.page.getByRole('alertdialog', { name: 'This version of Parley is new to you' })).toBeVisible();
    await q.page.waitForTimeout(1000);
    expect(await constructedWorkers(q.page)).toEqual([]);
    await expect(q.page.getByRole('heading', { name: 'Chats', level: 1 })).toHaveCount(0);

    // Accepted: Parley opens with B, and B stays accepted.
    await q.page.getByRole('button', { name: 'Accept and open Parley' }).click();
    await expect(q.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 30_000 });
    // The registration still holds B's code under A's worker URL: once open, B installs its own
    // worker file, and a controlled page reloads into it (the takeover it asked for), which can
    // abort the test's next navigation.
    expect(await aboutHash(q.page, { afterTakeover: true })).toBe(b.hash);
    await q.page.reload();
    await expect(q.page.getByRole('heading', { name: B_MARK })).toBeVisible();
    expect(await q.guard.problems(q.page)).toEqual([]);
  } finally {
    await idle();
    await context.close();
  }
});

test('P30 an entry script that does not match its SRI pin never runs', async ({ browser }) => {
  const tampered = new Map(a.files);
  const entry = [...tampered.keys()].find((f) => /^_app\/immutable\/entry\/start\..*\.js$/.test(f))!;
  tampered.set(entry, new TextEncoder().encode(`${new TextDecoder().decode(tampered.get(entry))}\n;window.__tampered = true;\n`));
  await host.serve(tampered);
  // No service worker: this is what the host's files alone do (a first visit).
  const context = await browser.newContext({ baseURL: host.url, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto('/');
    await expect.poll(() => errors.some((e) => /integrity/i.test(e))).toBe(true);
    expect(await page.evaluate(() => (window as { __tampered?: boolean }).__tampered ?? false)).toBe(false);
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toHaveCount(0);
  } finally {
    await context.close();
  }
  // The same build untampered starts (a new context: the browser cached the tampered file).
  await host.serve(a.files);
  const clean = await browser.newContext({ baseURL: host.url, serviceWorkers: 'block' });
  try {
    const page = await clean.newPage();
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
  } finally {
    await clean.close();
  }
});

/** The worker states of the page's registration: what a failed switch leaves behind, in the failure message. */
async function workerStates(page: Page): Promise<string> {
  return page
    .evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const w = (x: ServiceWorker | null | undefined) => (x ? `${x.scriptURL.replace(location.origin, '')} ${x.state}` : null);
      return JSON.stringify({ controller: w(navigator.serviceWorker.controller), active: w(reg?.active), waiting: w(reg?.waiting), installing: w(reg?.installing) });
    })
    .catch((e: unknown) => `unreadable (${String(e)})`);
}

/** An older Parley's worker, registered under the fixed name, controls `page` at the app. */
async function legacyInstall(page: Page): Promise<void> {
  await page.goto('/parley-build.json');
  await page.evaluate(async () => {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
  });
}

/** The page switches to `a`'s own worker by itself; if not, the failure says where the switch stopped. */
async function expectOwnWorker(page: Page): Promise<void> {
  // The switch reloads the page once: an evaluate may meet the navigation.
  const controller = () => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL).catch(() => undefined);
  try {
    await expect.poll(controller, { timeout: 30_000 }).toBe(`${host.url}/sw-${a.hash}.js`);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nworkers: ${await workerStates(page)}`, { cause: e });
  }
}

test('P39 an install from before hash-named workers (sw.js) switches to this build\'s own worker once, by itself', async ({ browser }) => {
  await host.serve(a.files);
  const context = await browser.newContext({ baseURL: host.url });
  // Chromium's idle stop of an outgoing worker, which DevTools suppresses (support/idle-worker.ts).
  const idle = await stopIdleWorkers(context);
  try {
    const page = await context.newPage();
    await legacyInstall(page);
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
    await expectOwnWorker(page);
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
    await expect(page.getByRole('alertdialog')).toHaveCount(0);
  } finally {
    await idle();
    await context.close();
  }
});

test('P39 a switch to this build\'s own worker that failed (its script did not load) is tried again by itself', async ({ browser }) => {
  await host.serve(a.files);
  const context = await browser.newContext({ baseURL: host.url });
  // Chromium's idle stop of an outgoing worker, which DevTools suppresses (support/idle-worker.ts).
  const idle = await stopIdleWorkers(context);
  try {
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (m) => void (m.type() === 'warning' && warnings.push(m.text())));
    await legacyInstall(page);
    // The host fails to serve this build's worker: the page still loads (from the old worker's
    // cache), but cannot switch.
    const broken = new Map(a.files);
    broken.delete(`sw-${a.hash}.js`);
    await host.serve(broken);
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
    await expect.poll(() => warnings.some((w) => w.includes('service worker is not in place yet'))).toBe(true);
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${host.url}/sw.js`);
    // The file is back; the retry 10 s after the failure switches.
    await host.serve(a.files);
    await expectOwnWorker(page);
    await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
    await expect(page.getByRole('alertdialog')).toHaveCount(0);
  } finally {
    await idle();
    await context.close();
  }
});

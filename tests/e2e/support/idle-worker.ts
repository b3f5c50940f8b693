/**
 * What Chromium does to an idle service worker when no DevTools is attached, for the browser
 * tests, where Playwright always is.
 *
 * A waiting worker that called skipWaiting() activates once the outgoing (active) worker has no
 * work. Chromium hurries the outgoing worker to stop only if it was running when skipWaiting()
 * came; asked while it was starting (a fetch had just woken it), or restarted after the hurry, it
 * relies on the worker's ordinary idle stop (about 30 s) and activates the waiting worker when it
 * stops. With DevTools attached Chromium never stops an idle worker, so the switch waits for its
 * five-minute fallback instead (content/browser/service_worker: ServiceWorkerVersion::
 * OnRequestTermination, ServiceWorkerRegistration::IsReadyToActivate). Seen in CI as a P39
 * worker switch that never happened: the page's worker installed and waiting, the old one active.
 * Asking again does not help: Chromium acts only on the first skipWaiting() while it is pending.
 *
 * `stopIdleWorkers` makes that idle stop for a browser context: it stops an activated worker
 * once a worker has waited behind it for 5 s. It cannot make a worker activate that did not ask to skip waiting — the page is
 * still the outgoing worker's client, so such a worker keeps waiting (idle-worker.spec.ts) — so a
 * P39 test that relies on them still fails if a worker takes over unasked, or if the page never
 * asked; a worker that skips waiting by itself unasked takes over sooner, and is caught sooner.
 */
import type { BrowserContext, CDPSession, Page } from '@playwright/test';

interface Version {
  versionId: string;
  scriptURL: string;
  registrationId: string;
  runningStatus: 'stopped' | 'starting' | 'running' | 'stopping';
  status: 'new' | 'installing' | 'installed' | 'activating' | 'activated' | 'redundant';
}

/** The activated, not stopped, workers of registrations that have a worker waiting. */
function outgoing(versions: Iterable<Version>, waitingLongEnough: (v: Version) => boolean): Version[] {
  const all = [...versions];
  const waiting = new Set(all.filter((v) => v.status === 'installed' && waitingLongEnough(v)).map((v) => v.registrationId));
  return all.filter((v) => v.status === 'activated' && v.runningStatus !== 'stopped' && waiting.has(v.registrationId));
}

const WAITED_MS = 5_000;

const log = (what: string) => console.log(`idle-worker: ${what}`);

/**
 * While it runs, an outgoing worker of `context` is stopped once a worker has waited behind it
 * for 5 s (each stop is told to `onStop`, logged by default). Returns the function that ends it.
 */
export async function stopIdleWorkers(context: BrowserContext, onStop: (what: string) => void = log): Promise<() => Promise<void>> {
  const versions = new Map<string, Version>();
  const waitingSince = new Map<string, number>();
  const sessions = new Set<CDPSession>();
  const watch = async (page: Page) => {
    const cdp = await context.newCDPSession(page).catch(() => undefined);
    if (!cdp) return;
    cdp.on('ServiceWorker.workerVersionUpdated', (e: { versions: Version[] }) => {
      for (const v of e.versions) {
        versions.set(v.versionId, v);
        if (v.status === 'installed') {
          if (!waitingSince.has(v.versionId)) waitingSince.set(v.versionId, Date.now());
        } else waitingSince.delete(v.versionId);
      }
    });
    page.once('close', () => sessions.delete(cdp));
    await cdp.send('ServiceWorker.enable').then(
      () => sessions.add(cdp),
      () => undefined
    );
  };
  const onPage = (page: Page) => void watch(page);
  context.on('page', onPage);
  await Promise.all(context.pages().map(watch));
  const stoppedAt = new Map<string, number>();
  const timer = setInterval(() => {
    const cdp = [...sessions][0];
    if (!cdp) return;
    const now = Date.now();
    for (const v of outgoing(versions.values(), (w) => now - (waitingSince.get(w.versionId) ?? now) >= WAITED_MS)) {
      // At most once per 5 s for one worker, as an idle stop would be.
      if (now - (stoppedAt.get(v.versionId) ?? 0) < WAITED_MS) continue;
      stoppedAt.set(v.versionId, now);
      const behind = [...versions.values()].find((w) => w.registrationId === v.registrationId && w.status === 'installed');
      const path = (u: string | undefined) => (u ? new URL(u).pathname : '?');
      onStop(`stopped the outgoing service worker ${path(v.scriptURL)}: ${path(behind?.scriptURL)} had waited behind it for ${WAITED_MS / 1000} s (Chromium's idle stop without DevTools)`);
      void cdp.send('ServiceWorker.stopWorker', { versionId: v.versionId }).catch(() => undefined);
    }
  }, 1_000);
  return async () => {
    clearInterval(timer);
    context.off('page', onPage);
    await Promise.all([...sessions].map((s) => s.detach().catch(() => undefined)));
  };
}

/**
 * Reading back the notifications Parley shows, without losing one to the read.
 *
 * Chromium's `getNotifications()` synchronises its notification database with what the platform
 * reports as on display: a stored notification that is not yet on display, and was created before
 * the read began, is DELETED from the database (content/browser/notifications/
 * platform_notification_context_impl.cc, DoReadAllNotificationDataForServiceWorkerRegistration).
 * A read that lands between the write and the display loses that notification for good: every
 * later read lists nothing. Polling `getNotifications()` while a message arrives did exactly that
 * about once in a dozen runs under load (notifications.spec.ts failed in CI with `[]` while the
 * title already counted the message). Parley itself never reads its notifications.
 *
 * So the tests count the `showNotification` calls that RESOLVED (the notification is on display
 * then), wait for the count, and only then read once. The counter also sees a notification that
 * should not have been shown at all, even one a read would have dropped.
 */
import { expect, type BrowserContext, type Page, type Worker } from '@playwright/test';

export type Shown = { title: string; body: string; tag: string; data: unknown };

/** Page init script: counts the page's `showNotification` calls that resolved, in `window.__shown`. */
export function countPageShows(): void {
  const w = window as unknown as { __shown: number };
  w.__shown = 0;
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = async function (this: ServiceWorkerRegistration, ...args) {
    await show.apply(this, args);
    w.__shown += 1;
  };
}

/** How many notifications the page has shown since it loaded (countPageShows must be installed). */
export const pageShows = (page: Page): Promise<number> => page.evaluate(() => (window as unknown as { __shown: number }).__shown);

/** What the registration holds now. Call it only when no notification is being shown (see the header). */
export const notificationsNow = (page: Page): Promise<Shown[]> =>
  page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown })));

/** Waits until the page has shown `count` notifications in all, then reads what is on display, once. */
export async function notificationsAfter(page: Page, count: number, timeout = 15_000): Promise<Shown[]> {
  await expect.poll(() => pageShows(page), { timeout }).toBeGreaterThanOrEqual(count);
  return notificationsNow(page);
}

/** The running build's service worker (its sealed name, build-seal.ts). */
export async function parleyWorker(context: BrowserContext): Promise<Worker> {
  const sealed = (w: Worker) => /\/sw-[0-9a-f]{8,}\.js$/.test(w.url());
  return context.serviceWorkers().find(sealed) ?? (await context.waitForEvent('serviceworker', { predicate: sealed }));
}

/**
 * Counts the service worker's own `showNotification` calls that resolved (the push handler's),
 * from now on; returns the reader. The worker stays alive while DevTools is attached to it.
 */
export async function countWorkerShows(context: BrowserContext): Promise<() => Promise<number>> {
  const worker = await parleyWorker(context);
  await worker.evaluate(() => {
    const scope = self as unknown as { __shown: number; registration: ServiceWorkerRegistration };
    scope.__shown = 0;
    const reg = scope.registration;
    const show = reg.showNotification.bind(reg);
    reg.showNotification = async (...args: Parameters<ServiceWorkerRegistration['showNotification']>) => {
      await show(...args);
      scope.__shown += 1;
    };
  });
  return () => worker.evaluate(() => (self as unknown as { __shown: number }).__shown);
}

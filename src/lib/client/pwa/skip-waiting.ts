/**
 * Asking an installed service worker to take over (SECURITY.md P39: only the worker of the build
 * the page runs, or of one the user accepted, is ever asked).
 *
 * The worker's `SKIP_WAITING` message makes it call skipWaiting(); the browser then activates it
 * once the outgoing worker has finished its in-flight events. Chromium hurries the outgoing
 * worker to that point only if it is running at the moment skipWaiting() is called. Asked while it
 * was still starting (a fetch had just woken it), the switch waits for its ordinary idle timeout,
 * about 30 s, and with DevTools attached (as in the browser tests) five minutes. Every
 * skipWaiting() call checks again, so the page asks again while the worker still waits.
 */

/** How long the page waits between asks, and how many it makes before leaving it to the browser. */
export const SKIP_WAITING_REASK_MS = 2_000;
export const SKIP_WAITING_ASKS = 15;

/** The part of a ServiceWorker this needs. */
export type WaitingWorker = Pick<ServiceWorker, 'state' | 'postMessage'>;

/** Asks `worker` to skip waiting now, and again every 2 s while it is still waiting (15 asks). */
export function askToSkipWaiting(worker: WaitingWorker): void {
  let asks = 0;
  const ask = () => {
    if (worker.state !== 'installed' || asks++ >= SKIP_WAITING_ASKS) return;
    worker.postMessage({ type: 'SKIP_WAITING' });
    setTimeout(ask, SKIP_WAITING_REASK_MS);
  };
  ask();
}

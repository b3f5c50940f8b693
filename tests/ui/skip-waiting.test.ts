/**
 * The page asks a waiting service worker to take over until it does (src/lib/client/pwa/
 * skip-waiting.ts; SECURITY.md P39 — only a worker the page or the user chose is asked): Chromium
 * can leave a worker that was asked once waiting for minutes when the outgoing worker was starting
 * at that moment, so the page asks again while it still waits, and stops once it moved on.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { askToSkipWaiting, SKIP_WAITING_ASKS, SKIP_WAITING_REASK_MS, type WaitingWorker } from '../../src/lib/client/pwa/skip-waiting';

function worker(state: ServiceWorkerState): WaitingWorker & { posted: unknown[] } {
  const posted: unknown[] = [];
  return { state, posted, postMessage: (m: unknown) => void posted.push(m) } as WaitingWorker & { posted: unknown[] };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('P39 asking the chosen worker to take over', () => {
  test('a worker that keeps waiting is asked again every 2 s, and no more once it activates', () => {
    const w = worker('installed');
    askToSkipWaiting(w);
    expect(w.posted).toEqual([{ type: 'SKIP_WAITING' }]);
    vi.advanceTimersByTime(SKIP_WAITING_REASK_MS);
    expect(w.posted).toHaveLength(2);
    vi.advanceTimersByTime(SKIP_WAITING_REASK_MS);
    expect(w.posted).toHaveLength(3);
    (w as { state: ServiceWorkerState }).state = 'activating';
    vi.advanceTimersByTime(10 * SKIP_WAITING_REASK_MS);
    expect(w.posted).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('the asking stops after a bounded number of asks, leaving the rest to the browser', () => {
    const w = worker('installed');
    askToSkipWaiting(w);
    vi.advanceTimersByTime(100 * SKIP_WAITING_REASK_MS);
    expect(w.posted).toHaveLength(SKIP_WAITING_ASKS);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a worker that is not waiting (already active, or redundant) is not asked', () => {
    for (const state of ['activated', 'redundant', 'installing'] as const) {
      const w = worker(state);
      askToSkipWaiting(w);
      expect(w.posted).toEqual([]);
    }
  });
});

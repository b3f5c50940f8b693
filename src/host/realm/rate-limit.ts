/**
 * Fixed-window request limits for the realm, per client IP and per user id.
 *
 * These protect the realm's CPU and disk, not the PIN: the guess limit (P23) is what bounds PIN
 * guessing, whatever the request rate. Per-user limits let anyone slow one user's recovery down
 * (a denial of service the guess limit already allows); per-IP limits bound one client. Memory
 * is bounded: expired windows are dropped, and when the table is full the oldest entries go.
 */

export interface RateLimit {
  /** Requests allowed per window. */
  max: number;
  windowMs: number;
}

export interface RateLimiter {
  /** Counts one request for `key`; false when over the limit. */
  take(key: string): boolean;
}

const MAX_KEYS = 50_000;

export function createRateLimiter(limit: RateLimit, clock: () => number): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();

  function prune(now: number): void {
    for (const [k, w] of windows) if (now - w.start >= limit.windowMs) windows.delete(k);
    // Still full (a flood of distinct keys): drop the oldest tenth, so the scan is not per request.
    for (const k of windows.keys()) {
      if (windows.size < MAX_KEYS * 0.9) break;
      windows.delete(k);
    }
  }

  return {
    take(key) {
      const now = clock();
      let w = windows.get(key);
      if (!w || now - w.start >= limit.windowMs) {
        if (windows.size >= MAX_KEYS) prune(now);
        w = { start: now, count: 0 };
        windows.delete(key);
        windows.set(key, w);
      }
      w.count++;
      return w.count <= limit.max;
    }
  };
}

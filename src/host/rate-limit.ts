/**
 * Fixed-window rate limiter that says how long to wait (for Retry-After). Memory is bounded:
 * when the table is full, expired windows go first, then the oldest entries.
 */
export interface Window {
  max: number;
  windowMs: number;
}

export interface Limiter {
  /**
   * Counts one hit for `key` (or `weight` units of a budget, e.g. MiB); 0 if allowed, else
   * milliseconds until the window resets.
   */
  hit(key: string, weight?: number): number;
}

const MAX_KEYS = 50_000;

export function createLimiter(limit: Window, clock: () => number): Limiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, weight = 1) {
      const now = clock();
      let w = windows.get(key);
      if (!w || now - w.start >= limit.windowMs) {
        if (windows.size >= MAX_KEYS) {
          for (const [k, v] of windows) if (now - v.start >= limit.windowMs) windows.delete(k);
          for (const k of windows.keys()) {
            if (windows.size < MAX_KEYS) break;
            windows.delete(k);
          }
        }
        w = { start: now, count: 0 };
        windows.delete(key);
        windows.set(key, w);
      }
      w.count += weight;
      return w.count <= limit.max ? 0 : Math.max(1, w.start + limit.windowMs - now);
    }
  };
}

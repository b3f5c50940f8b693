/**
 * Rate limits on the shared store (port.ts hitRate; rate-limit.ts semantics: fixed windows), so
 * every host instance counts against the same windows (P40 lockouts hold across instances).
 * Each limiter's keys carry its own prefix, so two limiters never share a window.
 * Knows nothing of HTTP.
 */
import { createLimiter, type Window } from './rate-limit';
import type { HostStore } from './storage/port';

export interface SharedLimiter {
  /** Counts one hit for `key` (or `weight` units); 0 if allowed, else milliseconds until the window resets. */
  hit(key: string, weight?: number): Promise<number>;
}

export function sharedLimiter(store: HostStore, name: string, window: Window, clock: () => number): SharedLimiter {
  return { hit: (key, weight) => store.hitRate(`${name}:${key}`, window, clock(), weight) };
}

/** Makes a named limiter: on the host's shared store (every instance counts together), or local. */
export type LimiterMaker = (name: string, window: Window) => SharedLimiter;

export const storeLimiters =
  (store: HostStore, clock: () => number): LimiterMaker =>
  (name, window) =>
    sharedLimiter(store, name, window, clock);

/** One process's own windows (a component tested alone; the host passes storeLimiters). */
export const localLimiters =
  (clock: () => number): LimiterMaker =>
  (_name, window) => {
    const l = createLimiter(window, clock);
    return { hit: async (key, weight) => l.hit(key, weight) };
  };

/**
 * Timers a library starts and re-arms for ever with no way to stop them: `peer`'s PeerServer runs
 * a 300 ms connection check and a message-expiry timer from its mount, each re-armed from its own
 * callback, and exposes neither. A closed host must not keep them running (a process that made
 * and closed a host would never exit by itself).
 *
 * `run(fn)` calls `fn` with setTimeout / setInterval / clearTimeout / clearInterval recorded, and
 * so does every callback of a timer started that way, so the re-armed timers are recorded too.
 * Only code on those call stacks is affected; the globals are restored before `run` returns, even
 * when `fn` throws. `stop()` clears every timer still pending and makes any callback that was
 * already due a no-op.
 */
type Callback = (...args: unknown[]) => void;

interface TimerGlobals {
  setTimeout: typeof globalThis.setTimeout;
  setInterval: typeof globalThis.setInterval;
  clearTimeout: typeof globalThis.clearTimeout;
  clearInterval: typeof globalThis.clearInterval;
}

export interface ScopedTimers {
  run<T>(fn: () => T): T;
  stop(): void;
  /** Timers started in scope and still pending (tests). */
  pending(): number;
}

export function scopedTimers(): ScopedTimers {
  const live = new Set<ReturnType<typeof setTimeout>>();
  let stopped = false;

  function run<T>(fn: () => T): T {
    const g = globalThis as unknown as TimerGlobals;
    const saved: TimerGlobals = { setTimeout: g.setTimeout, setInterval: g.setInterval, clearTimeout: g.clearTimeout, clearInterval: g.clearInterval };
    const guarded = (cb: Callback, once: () => void) =>
      function (this: unknown, ...args: unknown[]) {
        once();
        if (stopped) return;
        run(() => cb.apply(this, args));
      };
    const scoped: TimerGlobals = {
      setTimeout: ((cb: Callback, ms?: number, ...args: unknown[]) => {
        if (stopped) return saved.setTimeout(() => {}, 0);
        const t = saved.setTimeout(guarded(cb, () => live.delete(t)), ms, ...args);
        live.add(t);
        return t;
      }) as typeof globalThis.setTimeout,
      setInterval: ((cb: Callback, ms?: number, ...args: unknown[]) => {
        if (stopped) return saved.setTimeout(() => {}, 0);
        const t = saved.setInterval(guarded(cb, () => {}), ms, ...args);
        live.add(t);
        return t;
      }) as typeof globalThis.setInterval,
      clearTimeout: ((t?: ReturnType<typeof setTimeout>) => {
        if (t !== undefined) live.delete(t);
        saved.clearTimeout(t);
      }) as typeof globalThis.clearTimeout,
      clearInterval: ((t?: ReturnType<typeof setInterval>) => {
        if (t !== undefined) live.delete(t);
        saved.clearInterval(t);
      }) as typeof globalThis.clearInterval
    };
    Object.assign(g, scoped);
    try {
      return fn();
    } finally {
      Object.assign(g, saved);
    }
  }

  return {
    run,
    stop() {
      stopped = true;
      for (const t of live) clearTimeout(t);
      live.clear();
    },
    pending: () => live.size
  };
}

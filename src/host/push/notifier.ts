/**
 * When the host pushes (README "Web Push with the tab closed"): after an envelope for an account
 * commits and the account has no live WebSocket on this instance, one empty push to each of its
 * registered endpoints. Pushes are coalesced per account: the first goes at once, and whatever
 * else arrives within `minIntervalMs` after it becomes at most one more push at the end of that
 * interval (sent only if the account is still offline then). An endpoint the push service answers
 * 404 or 410 for is deleted (RFC 8030 §7.3: the subscription is gone).
 *
 * Memory: one entry per account pushed within the last interval. Logs carry status codes and
 * counts, never an endpoint URL or a username. Knows nothing of HTTP routes or envelope contents.
 */
import type { PushStore } from '../storage/push-port';
import type { PushSend } from './vapid';

export interface PushNotifierDeps {
  store: PushStore;
  send: PushSend;
  /** True while the account has a live WebSocket here (hub.ts): its tabs get the envelope directly. */
  online(username: string): boolean;
  minIntervalMs: number;
  log(line: string): void;
}

export interface PushNotifier {
  /** An envelope for `username` was committed (called on the commit path: cheap, never throws). */
  stored(username: string): void;
  /** Stops the timers and waits for pushes in flight. */
  close(): Promise<void>;
}

interface Window {
  timer: NodeJS.Timeout;
  /** Something arrived after this window's push. */
  pending: boolean;
}

export function createPushNotifier(d: PushNotifierDeps): PushNotifier {
  const windows = new Map<string, Window>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  async function pushAll(username: string): Promise<void> {
    let endpoints: string[];
    try {
      endpoints = await d.store.subscriptions(username);
    } catch (e) {
      return d.log(`push: reading subscriptions failed: ${e instanceof Error ? e.name : 'unknown'}`);
    }
    for (const endpoint of endpoints) {
      const status = await d.send(endpoint).catch(() => 0);
      if (status === 404 || status === 410) {
        await d.store.dropEndpoint(endpoint).then(
          () => d.log(`push: service answered ${status}, subscription removed`),
          (e: unknown) => d.log(`push: removing a gone subscription failed: ${e instanceof Error ? e.name : 'unknown'}`)
        );
      } else if (status < 200 || status > 299) d.log(`push: service answered ${status === 0 ? 'nothing' : status}`);
    }
  }

  function open(username: string): void {
    const w: Window = { pending: false, timer: setTimeout(() => windowEnd(username), d.minIntervalMs) };
    w.timer.unref();
    windows.set(username, w);
    const p = pushAll(username).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  function windowEnd(username: string): void {
    const w = windows.get(username);
    windows.delete(username);
    if (!closed && w?.pending && !d.online(username)) open(username);
  }

  return {
    stored(username) {
      if (closed || d.online(username)) return;
      const w = windows.get(username);
      if (w) w.pending = true;
      else open(username);
    },
    async close() {
      closed = true;
      for (const w of windows.values()) clearTimeout(w.timer);
      windows.clear();
      await Promise.all([...inFlight]);
    }
  };
}

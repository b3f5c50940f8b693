/**
 * Live delivery (DESIGN.md §5): who is connected, and pushing envelopes to them in server-id
 * order. A newly authenticated connection first replays every unacked envelope from storage,
 * page by page, and only then takes live pushes; while it replays, live pushes are skipped
 * because the replay reads them from storage anyway (they are committed before `deliver` is
 * called). Reading a page and switching to live happen in one synchronous step, so no commit can
 * slip between them.
 *
 * Bounded memory per connection (P40): a page holds at most `redeliveryPageBytes` of bodies, and
 * nothing is pushed while a socket holds more than `wsHighWaterBytes` (so it holds at most the
 * mark plus one envelope). A live push to a socket above the mark sends it back to replay mode; replay resumes when the socket has
 * drained, and a socket that stays above the mark for `wsStallMs` (its reader stopped reading)
 * is dropped. Nothing is lost either way: whatever was not pushed is still in storage.
 * Knows nothing of HTTP, auth or frame layouts.
 */
import type { Limits } from './limits';
import type { HostStorage, StoredEnvelope } from './storage/types';

export interface Connection {
  readonly username: string;
  push(e: StoredEnvelope): void;
  /** Bytes queued in the socket and not yet taken by the peer. */
  buffered(): number;
  isOpen(): boolean;
  /** Calls `f` once the socket's queue has drained (never, if it closes first). */
  onDrain(f: () => void): void;
  /** Ends a connection whose reader stalled. */
  drop(): void;
}

export interface Hub {
  attach(c: Connection): void;
  detach(c: Connection): void;
  /** Called after the commit, in id order. */
  deliver(e: StoredEnvelope): void;
  connections(): number;
}

interface State {
  lastSentId: number;
  replaying: boolean;
  /** Set while the connection waits for its socket to drain. */
  stallTimer?: NodeJS.Timeout;
}

export function createHub(storage: HostStorage, limits: Limits): Hub {
  const byUser = new Map<string, Map<Connection, State>>();

  /** Replay mode until the socket drains; dropped if that takes longer than wsStallMs. */
  function waitForDrain(c: Connection, s: State): void {
    s.replaying = true;
    if (s.stallTimer) return;
    s.stallTimer = setTimeout(() => c.drop(), limits.wsStallMs);
    c.onDrain(() => {
      clearTimeout(s.stallTimer);
      s.stallTimer = undefined;
      replay(c, s);
    });
  }

  function replay(c: Connection, s: State): void {
    if (!c.isOpen() || s.stallTimer) return;
    const page = storage.pendingEnvelopes(c.username, s.lastSentId, limits.redeliveryPage, limits.redeliveryPageBytes);
    let bytes = 0;
    for (const e of page) {
      if (c.buffered() > limits.wsHighWaterBytes) return waitForDrain(c, s);
      c.push(e);
      s.lastSentId = e.id;
      bytes += e.body.length;
    }
    if (page.length < limits.redeliveryPage && bytes < limits.redeliveryPageBytes) s.replaying = false;
    else if (c.buffered() > limits.wsHighWaterBytes) waitForDrain(c, s);
    else setImmediate(() => replay(c, s));
  }

  return {
    attach(c) {
      let conns = byUser.get(c.username);
      if (!conns) byUser.set(c.username, (conns = new Map()));
      const s: State = { lastSentId: 0, replaying: true };
      conns.set(c, s);
      replay(c, s);
    },
    detach(c) {
      const conns = byUser.get(c.username);
      const s = conns?.get(c);
      if (s?.stallTimer) clearTimeout(s.stallTimer);
      conns?.delete(c);
      if (conns?.size === 0) byUser.delete(c.username);
    },
    deliver(e) {
      const conns = byUser.get(e.recipient);
      if (!conns) return;
      for (const [c, s] of conns) {
        if (s.replaying || e.id <= s.lastSentId || !c.isOpen()) continue;
        if (c.buffered() > limits.wsHighWaterBytes) {
          waitForDrain(c, s);
          continue;
        }
        c.push(e);
        s.lastSentId = e.id;
      }
    },
    connections() {
      let n = 0;
      for (const m of byUser.values()) n += m.size;
      return n;
    }
  };
}

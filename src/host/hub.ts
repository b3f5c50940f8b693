/**
 * Live delivery (DESIGN.md §5): who is connected, and pushing envelopes to them in server-id
 * order. A newly authenticated connection first replays every unacked envelope from storage,
 * page by page with backpressure, and only then takes live pushes; while it replays, live pushes
 * are skipped because the replay reads them from storage anyway (they are committed before
 * `deliver` is called). Everything here is synchronous per page, so no commit can slip between
 * reading a page and switching to live. Knows nothing of HTTP, auth or frame layouts.
 */
import type { Limits } from './limits';
import type { HostStorage, StoredEnvelope } from './storage/types';

export interface Connection {
  readonly username: string;
  push(e: StoredEnvelope): void;
  /** Bytes queued in the socket, for replay backpressure. */
  buffered(): number;
  isOpen(): boolean;
}

export interface Hub {
  attach(c: Connection): void;
  detach(c: Connection): void;
  /** Called after the commit, in id order. */
  deliver(e: StoredEnvelope): void;
  connections(): number;
}

const HIGH_WATER = 4 * 1024 * 1024;

interface State {
  lastSentId: number;
  replaying: boolean;
}

export function createHub(storage: HostStorage, limits: Limits): Hub {
  const byUser = new Map<string, Map<Connection, State>>();

  function replay(c: Connection, s: State): void {
    if (!c.isOpen()) return;
    if (c.buffered() > HIGH_WATER) {
      setTimeout(() => replay(c, s), 5);
      return;
    }
    const page = storage.pendingEnvelopes(c.username, s.lastSentId, limits.redeliveryPage);
    for (const e of page) {
      c.push(e);
      s.lastSentId = e.id;
    }
    if (page.length < limits.redeliveryPage) s.replaying = false;
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
      conns?.delete(c);
      if (conns?.size === 0) byUser.delete(c.username);
    },
    deliver(e) {
      const conns = byUser.get(e.recipient);
      if (!conns) return;
      for (const [c, s] of conns) {
        if (s.replaying || e.id <= s.lastSentId || !c.isOpen()) continue;
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

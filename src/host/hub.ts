/**
 * Live delivery (DESIGN.md §5): who is connected, and pushing envelopes to them in server-id
 * order. A newly authenticated connection first replays every unacked envelope from storage,
 * page by page, and only then takes live pushes; while it replays, live pushes are skipped
 * because the replay reads them from storage anyway (they are committed before `deliver` is
 * called). A page read is asynchronous, so a push skipped during it marks the connection dirty,
 * and a short page only switches to live if nothing was skipped meanwhile (else it reads again).
 *
 * Several instances (PostgreSQL): envelopes committed elsewhere arrive as `poke(usernames)`
 * (bus-port.ts), which sends the connection back to replay from its cursor. A local commit is
 * pushed directly only if the socket already has everything up to the mailbox's previous id
 * (`before`, port.ts); otherwise another instance's envelope may be in between, and the
 * connection replays instead. So pushes stay in id order, each exactly once per socket.
 *
 * Bounded memory per connection (P40): a page holds at most `redeliveryPageBytes` of bodies, and
 * nothing is pushed while a socket holds more than `wsHighWaterBytes` (so it holds at most the
 * mark plus one envelope). A live push to a socket above the mark sends it back to replay mode; replay resumes when the socket has
 * drained, and a socket that stays above the mark for `wsStallMs` (its reader stopped reading)
 * is dropped. Nothing is lost either way: whatever was not pushed is still in storage.
 * Knows nothing of HTTP, auth or frame layouts.
 */
import type { Limits } from './limits';
import type { HostStore } from './storage/port';
import type { StoredEnvelope } from './storage/types';

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
  /** Called after the commit, in id order; `before` as port.ts StoreBatchResult. */
  deliver(e: StoredEnvelope, before?: number): void;
  /** Another instance committed envelopes to these mailboxes: read them from storage. */
  poke(usernames: readonly string[]): void;
  /** Notifications may have been missed: every connection reads its mailbox again. */
  pokeAll(): void;
  connections(): number;
  /** True while `username` has a connection here (Web Push is for accounts without one). */
  online(username: string): boolean;
}

interface State {
  lastSentId: number;
  replaying: boolean;
  /** A page read is in flight. */
  reading: boolean;
  /** A push was skipped (or a poke came) while reading: read again before going live. */
  dirty: boolean;
  /** Set while the connection waits for its socket to drain. */
  stallTimer?: NodeJS.Timeout;
}

/** Before retrying a page read that failed (the store is down or restarting). */
const RETRY_READ_MS = 500;

export function createHub(storage: HostStore, limits: Limits): Hub {
  const byUser = new Map<string, Map<Connection, State>>();

  /** Replay mode until the socket drains; dropped if that takes longer than wsStallMs. */
  function waitForDrain(c: Connection, s: State): void {
    s.replaying = true;
    if (s.stallTimer) return;
    s.stallTimer = setTimeout(() => c.drop(), limits.wsStallMs);
    c.onDrain(() => {
      clearTimeout(s.stallTimer);
      s.stallTimer = undefined;
      void replay(c, s);
    });
  }

  function startReplay(c: Connection, s: State): void {
    if (s.replaying) {
      s.dirty = true;
      return;
    }
    s.replaying = true;
    void replay(c, s);
  }

  const attached = (c: Connection): boolean => byUser.get(c.username)?.has(c) === true;

  async function replay(c: Connection, s: State): Promise<void> {
    if (!c.isOpen() || s.stallTimer || s.reading) return;
    s.reading = true;
    s.dirty = false;
    let page: StoredEnvelope[];
    try {
      page = await storage.pendingEnvelopes(c.username, s.lastSentId, limits.redeliveryPage, limits.redeliveryPageBytes);
    } catch {
      s.reading = false;
      // Nothing is lost: the envelopes stay stored; read again in a moment.
      setTimeout(() => void replay(c, s), RETRY_READ_MS).unref();
      return;
    }
    s.reading = false;
    if (!attached(c) || !c.isOpen()) return;
    let bytes = 0;
    for (const e of page) {
      if (e.id <= s.lastSentId) continue;
      if (c.buffered() > limits.wsHighWaterBytes) return waitForDrain(c, s);
      c.push(e);
      s.lastSentId = e.id;
      bytes += e.body.length;
    }
    if (page.length < limits.redeliveryPage && bytes < limits.redeliveryPageBytes) {
      if (s.dirty) void replay(c, s);
      else s.replaying = false;
    } else if (c.buffered() > limits.wsHighWaterBytes) waitForDrain(c, s);
    else setImmediate(() => void replay(c, s));
  }

  function pokeUser(username: string): void {
    for (const [c, s] of byUser.get(username) ?? []) startReplay(c, s);
  }

  return {
    attach(c) {
      let conns = byUser.get(c.username);
      if (!conns) byUser.set(c.username, (conns = new Map()));
      const s: State = { lastSentId: 0, replaying: true, reading: false, dirty: false };
      conns.set(c, s);
      void replay(c, s);
    },
    detach(c) {
      const conns = byUser.get(c.username);
      const s = conns?.get(c);
      if (s?.stallTimer) clearTimeout(s.stallTimer);
      conns?.delete(c);
      if (conns?.size === 0) byUser.delete(c.username);
    },
    deliver(e, before) {
      const conns = byUser.get(e.recipient);
      if (!conns) return;
      for (const [c, s] of conns) {
        if (s.replaying) {
          s.dirty = true;
          continue;
        }
        if (e.id <= s.lastSentId || !c.isOpen()) continue;
        // Another instance's envelope may sit between what this socket has and this one.
        if (before !== undefined && before > s.lastSentId) {
          startReplay(c, s);
          continue;
        }
        if (c.buffered() > limits.wsHighWaterBytes) {
          waitForDrain(c, s);
          continue;
        }
        c.push(e);
        s.lastSentId = e.id;
      }
    },
    poke(usernames) {
      for (const u of usernames) pokeUser(u);
    },
    pokeAll() {
      for (const u of byUser.keys()) pokeUser(u);
    },
    online(username) {
      return byUser.has(username);
    },
    connections() {
      let n = 0;
      for (const m of byUser.values()) n += m.size;
      return n;
    }
  };
}

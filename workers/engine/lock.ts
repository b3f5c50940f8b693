/**
 * One driver per account (DESIGN.md §5; SECURITY.md P18 "several tabs never fork a ratchet").
 *
 * Each tab's engine asks for the Web Lock `parley-driver:<username>`. The holder is the DRIVER:
 * it alone connects to the host, receives, encrypts and flushes the outbox. Others are FOLLOWERS:
 * they read IndexedDB, may queue outgoing items (that touches no ratchet), and hear the driver's
 * events over a BroadcastChannel. When the driver's tab closes the browser releases its lock and
 * the next waiting tab is granted it: that is the takeover.
 *
 * Without Web Locks (Node tests, old browsers) a supplied LockManagerLike is used, or this tab
 * simply drives. Knows nothing of what the driver does.
 */
import type { EngineEvent } from './events';

export interface LockManagerLike {
  request(name: string, callback: () => Promise<void>): Promise<void>;
}

export function browserLocks(): LockManagerLike | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks;
}

/** An in-process lock manager with Web Locks' exclusive, FIFO semantics (tests). */
export function memoryLocks(): LockManagerLike {
  const queues = new Map<string, (() => void)[]>();
  const held = new Set<string>();
  return {
    request(name, callback) {
      return new Promise<void>((resolve, reject) => {
        const run = () => {
          held.add(name);
          callback()
            .then(resolve, reject)
            .finally(() => {
              held.delete(name);
              queues.get(name)?.shift()?.();
            });
        };
        if (!held.has(name)) run();
        else queues.set(name, [...(queues.get(name) ?? []), run]);
      });
    }
  };
}

export class DriverLock {
  private release?: () => void;
  private closed = false;

  constructor(
    private readonly locks: LockManagerLike | undefined,
    readonly name: string
  ) {}

  /** Requests the lock; `onDriver` runs when this tab becomes the driver (maybe never). */
  acquire(onDriver: () => void): void {
    if (!this.locks) {
      onDriver();
      return;
    }
    void this.locks
      .request(this.name, () => {
        if (this.closed) return Promise.resolve();
        onDriver();
        // Held until release(): the promise is the lock's lifetime.
        return new Promise<void>((resolve) => (this.release = resolve));
      })
      .catch(() => undefined);
  }

  /** Gives the lock up (tab closing); a waiting tab takes over. */
  close(): void {
    this.closed = true;
    this.release?.();
    this.release = undefined;
  }
}

/** Driver -> followers: events; followers -> driver: "the outbox has new items". */
export type TabMessage = { kind: 'event'; event: EngineEvent } | { kind: 'kick' };

export class TabChannel {
  private channel?: BroadcastChannel;

  constructor(name: string, onMessage: (m: TabMessage) => void) {
    if (typeof BroadcastChannel === 'undefined') return;
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (e: MessageEvent<TabMessage>) => onMessage(e.data);
  }

  post(m: TabMessage): void {
    this.channel?.postMessage(m);
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }
}

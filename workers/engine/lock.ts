/**
 * One driver per account (DESIGN.md §5; SECURITY.md P18 "several tabs never fork a ratchet").
 *
 * Each tab's engine asks for the Web Lock `parley-driver:<username>`. The holder is the DRIVER:
 * it alone connects to the host, receives, encrypts and flushes the outbox. Others are FOLLOWERS:
 * they read IndexedDB, may queue outgoing items (that touches no ratchet), and hear the driver's
 * events over a BroadcastChannel. When the driver's tab closes the browser releases its lock and
 * the next waiting tab is granted it: that is the takeover.
 *
 * Without a lock manager (a browser without Web Locks) no tab can know it is alone, so none
 * drives: every tab is read-only (fail closed). Node tests pass `memoryLocks()`.
 *
 * The channel is not trusted (P31): any script of the origin can post on it. Every message is
 * sealed with the vault's data key (AEAD, so only a vault worker of this account can write one),
 * carries its send time, is refused when stale or replayed, and is decoded strictly
 * (tab-message.ts) before anything is emitted. Knows nothing of what the driver does.
 */
import { ByteReader, ByteWriter, toHex } from '../../src/lib/codec/bytes';
import { decodeTabMessage, encodeTabMessage, type TabMessage } from './tab-message';

export type { TabMessage };

/** Web Locks' request options that Parley uses (the driver lock takes the defaults). */
export interface LockOptions {
  mode?: 'exclusive' | 'shared';
  /** Granted now or not at all: the callback then gets null. */
  ifAvailable?: boolean;
}

/** The part of Web Locks' LockManager Parley uses; the callback's argument is null when not granted. */
export interface LockManagerLike {
  request(name: string, callback: (lock: unknown) => Promise<void>): Promise<void>;
  request(name: string, options: LockOptions, callback: (lock: unknown) => Promise<void>): Promise<void>;
}

export function browserLocks(): LockManagerLike | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks;
}

/**
 * An in-process lock manager with Web Locks' semantics (tests): exclusive and shared modes, one
 * FIFO queue per name (a request waits behind every earlier one, so a waiting exclusive request
 * is not starved by later shared ones), and ifAvailable.
 */
export function memoryLocks(): LockManagerLike {
  interface Waiting {
    shared: boolean;
    run: () => void;
  }
  const held = new Map<string, { exclusive: boolean; count: number }>();
  const queues = new Map<string, Waiting[]>();
  const grantable = (name: string, shared: boolean) => {
    const h = held.get(name);
    return !h || h.count === 0 || (shared && !h.exclusive);
  };
  const pump = (name: string) => {
    const q = queues.get(name) ?? [];
    while (q.length && grantable(name, q[0]!.shared)) q.shift()!.run();
  };
  function request(name: string, a: LockOptions | ((lock: unknown) => Promise<void>), b?: (lock: unknown) => Promise<void>): Promise<void> {
    const options = typeof a === 'function' ? {} : a;
    const callback = typeof a === 'function' ? a : b!;
    const shared = options.mode === 'shared';
    return new Promise<void>((resolve, reject) => {
      const run = () => {
        const h = held.get(name) ?? { exclusive: false, count: 0 };
        held.set(name, { exclusive: !shared, count: h.count + 1 });
        callback({ name, mode: shared ? 'shared' : 'exclusive' })
          .then(resolve, reject)
          .finally(() => {
            const now = held.get(name)!;
            held.set(name, { exclusive: now.count > 1 && now.exclusive, count: now.count - 1 });
            pump(name);
          });
      };
      const queue = queues.get(name) ?? [];
      queues.set(name, queue);
      if (queue.length === 0 && grantable(name, shared)) run();
      else if (options.ifAvailable) callback(null).then(resolve, reject);
      else queue.push({ shared, run });
    });
  }
  return { request } as LockManagerLike;
}

export class DriverLock {
  private release?: () => void;
  private closed = false;

  constructor(
    private readonly locks: LockManagerLike | undefined,
    readonly name: string
  ) {}

  /** Without a lock manager this tab never drives (P18: fail closed, read-only). */
  get readOnly(): boolean {
    return !this.locks;
  }

  /** Requests the lock; `onDriver` runs when this tab becomes the driver (maybe never). */
  acquire(onDriver: () => void): void {
    if (!this.locks) return;
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

/** A sealed channel message as it travels: an AEAD nonce and ciphertext (plain Uint8Arrays). */
export interface SealedTabMessage {
  iv: Uint8Array;
  ct: Uint8Array;
}

/** Seals and opens channel bytes under a key only this account's vault workers hold. */
export interface TabSealer {
  seal(plaintext: Uint8Array): SealedTabMessage;
  /** Throws if `sealed` does not open. */
  open(sealed: SealedTabMessage): Uint8Array;
}

/** A message older (or further ahead) than this by its sender's clock is refused. */
export const TAB_MESSAGE_WINDOW_MS = 60_000;
const NONCE_LEN = 24;
const MAX_SEALED = 8 * 1024;

function isSealed(v: unknown): v is SealedTabMessage {
  if (typeof v !== 'object' || v === null) return false;
  const keys = Object.keys(v);
  const { iv, ct } = v as Partial<SealedTabMessage>;
  return (
    keys.length === 2 && iv instanceof Uint8Array && iv.length === NONCE_LEN && ct instanceof Uint8Array && ct.length > 0 && ct.length <= MAX_SEALED
  );
}

export class TabChannel {
  private channel?: BroadcastChannel;
  /** Nonces of accepted messages -> their send time, forgotten once outside the window. */
  private readonly seen = new Map<string, number>();
  private refusedCount = 0;

  constructor(
    name: string,
    private readonly sealer: TabSealer,
    private readonly onMessage: (m: TabMessage) => void,
    private readonly now: () => number = Date.now
  ) {
    if (typeof BroadcastChannel === 'undefined') return;
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (e: MessageEvent<unknown>) => this.receive(e.data);
  }

  /** Messages dropped so far: unsealed, forged, stale, replayed or malformed (tests, diagnostics). */
  get refused(): number {
    return this.refusedCount;
  }

  post(m: TabMessage): void {
    if (!this.channel) return;
    const at = this.now();
    const sealed = this.sealer.seal(new ByteWriter().u64(at).raw(new TextEncoder().encode(encodeTabMessage(m))).finish());
    // Our own messages come back only as replays: remember them like any accepted one.
    this.seen.set(toHex(sealed.iv), at);
    this.channel.postMessage(sealed);
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }

  private receive(data: unknown): void {
    const m = this.accept(data);
    if (m) this.onMessage(m);
    else this.refusedCount++;
  }

  /** The message if it is sealed by this account, fresh, new and well-formed; else undefined. */
  private accept(data: unknown): TabMessage | undefined {
    if (!isSealed(data)) return undefined;
    const now = this.now();
    for (const [nonce, at] of this.seen) if (Math.abs(now - at) > TAB_MESSAGE_WINDOW_MS) this.seen.delete(nonce);
    try {
      const r = new ByteReader(this.sealer.open(data), 'tab message');
      const at = r.u64();
      const json = new TextDecoder('utf-8', { fatal: true }).decode(r.rest());
      if (Math.abs(now - at) > TAB_MESSAGE_WINDOW_MS) return undefined;
      const nonce = toHex(data.iv);
      if (this.seen.has(nonce)) return undefined;
      const m = decodeTabMessage(json);
      this.seen.set(nonce, at);
      return m;
    } catch {
      return undefined;
    }
  }
}

/**
 * MKSKIPPED of the Signal Double Ratchet spec (rev. 1, §3.2, §3.5): message keys of messages not
 * yet received, indexed by (their ratchet key, message number).
 *
 * Stored as a Map keyed by `${ratchetKeyHex}:${n}` (O(1) lookup) whose insertion order is the
 * order keys were skipped, so "evict the oldest" and "expire the oldest" are O(1) at the front.
 * Only MESSAGE keys are stored, never chain keys: a leaked skipped key opens one message.
 *
 * A map inside a RatchetState is never mutated; `SkippedKeysDraft` copies it on the first change,
 * so a failed decrypt leaves the caller's state untouched and an untouched map is shared.
 * Knows nothing of chains, headers or AEAD.
 */
import { MAX_SKIPPED_KEYS, SKIPPED_KEY_TTL_MS } from './limits';

export interface SkippedKey {
  /** Their ratchet public key of the chain the message belongs to. */
  readonly ratchetKey: Uint8Array;
  readonly n: number;
  readonly messageKey: Uint8Array;
  /** deps.now() when the key was skipped; it expires SKIPPED_KEY_TTL_MS later. */
  readonly createdAt: number;
}

/** Insertion-ordered (oldest first); treat as immutable. */
export type SkippedKeys = ReadonlyMap<string, SkippedKey>;

export const NO_SKIPPED_KEYS: SkippedKeys = new Map();

export function skippedKeyId(ratchetKeyHex: string, n: number): string {
  return `${ratchetKeyHex}:${n}`;
}

export function isExpired(k: SkippedKey, now: number): boolean {
  return now - k.createdAt >= SKIPPED_KEY_TTL_MS;
}

/** Copy-on-write editor over an immutable SkippedKeys. */
export class SkippedKeysDraft {
  private copy: Map<string, SkippedKey> | undefined;

  constructor(
    private readonly base: SkippedKeys,
    private readonly now: number
  ) {}

  private get current(): SkippedKeys {
    return this.copy ?? this.base;
  }

  private writable(): Map<string, SkippedKey> {
    this.copy ??= new Map(this.base);
    return this.copy;
  }

  get size(): number {
    return this.current.size;
  }

  /**
   * Deletes expired keys. The front holds the oldest, so this stops at the first live key; a clock
   * that went backwards can leave an expired key further in, which `take` still refuses.
   */
  purgeExpired(): void {
    for (const [id, k] of this.current) {
      if (!isExpired(k, this.now)) break;
      this.writable().delete(id);
    }
  }

  /** Removes and returns the message key for `id`; an expired key is removed and not returned. */
  take(id: string): Uint8Array | undefined {
    if (this.current.size === 0) return undefined;
    const k = this.current.get(id);
    if (!k) return undefined;
    this.writable().delete(id);
    return isExpired(k, this.now) ? undefined : k.messageKey;
  }

  /** Stores a skipped key, evicting the oldest when the session cap is reached. */
  add(ratchetKey: Uint8Array, ratchetKeyHex: string, n: number, messageKey: Uint8Array): void {
    const map = this.writable();
    map.set(skippedKeyId(ratchetKeyHex, n), { ratchetKey, n, messageKey, createdAt: this.now });
    if (map.size > MAX_SKIPPED_KEYS) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
  }

  /** Forgets every key of one chain (when that chain falls off the old-chains list). */
  dropChain(ratchetKeyHex: string): void {
    const prefix = `${ratchetKeyHex}:`;
    for (const id of this.current.keys()) {
      if (id.startsWith(prefix)) this.writable().delete(id);
    }
  }

  /** The resulting map: the original object when nothing changed. */
  finish(): SkippedKeys {
    return this.current;
  }
}

/**
 * MKSKIPPED of the Signal Double Ratchet spec (rev. 1, §3.2, §3.5): message keys of messages not
 * yet received, indexed by (their ratchet key, message number).
 *
 * Only MESSAGE keys are stored, never chain keys: a leaked skipped key opens one message.
 * A state's SkippedKeys is never mutated; `SkippedKeysDraft` edits copy-on-write, so a failed
 * decrypt leaves the caller's state untouched. To keep that copy cheap the keys sit in buckets of
 * 32 consecutive numbers of one chain (`${ratchetKeyHex}:${n >>> 5}`): a change copies the bucket
 * map (at most ~70 buckets) and one bucket, not all 2000 keys. Lookup is two hash probes.
 *
 * Buckets are in creation order and keys inside a bucket in insertion order. A chain's keys are
 * skipped in increasing n, and a chain only gains keys while it is the current receiving chain,
 * so iterating buckets then keys is the order keys were skipped: the oldest are at the front,
 * where eviction and expiry look. Knows nothing of chains, headers or AEAD.
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

export interface SkippedKeys {
  readonly size: number;
  /** bucket id -> (n -> key); treat as immutable. */
  readonly buckets: ReadonlyMap<string, ReadonlyMap<number, SkippedKey>>;
}

export const NO_SKIPPED_KEYS: SkippedKeys = { size: 0, buckets: new Map() };
const BUCKET_BITS = 5;
/** Consecutive message numbers of one chain that share a bucket. */
export const BUCKET_SIZE = 1 << BUCKET_BITS;

/** Which bucket of its chain message `n` falls in. */
export function bucketNumber(n: number): number {
  return n >>> BUCKET_BITS;
}

export function bucketId(ratchetKeyHex: string, n: number): string {
  return `${ratchetKeyHex}:${bucketNumber(n)}`;
}

export function isExpired(k: SkippedKey, now: number): boolean {
  return now - k.createdAt >= SKIPPED_KEY_TTL_MS;
}

/** Every stored key, oldest first. */
export function* skippedEntries(s: SkippedKeys): Generator<SkippedKey> {
  for (const bucket of s.buckets.values()) yield* bucket.values();
}

/** Copy-on-write editor over an immutable SkippedKeys. */
export class SkippedKeysDraft {
  private buckets: Map<string, ReadonlyMap<number, SkippedKey>> | undefined;
  /** Buckets already copied by this draft, safe to change in place. */
  private readonly owned = new Map<string, Map<number, SkippedKey>>();
  private count: number;

  constructor(
    private readonly base: SkippedKeys,
    private readonly now: number
  ) {
    this.count = base.size;
  }

  get size(): number {
    return this.count;
  }

  private get current(): ReadonlyMap<string, ReadonlyMap<number, SkippedKey>> {
    return this.buckets ?? this.base.buckets;
  }

  private bucketForWrite(id: string, create: boolean): Map<number, SkippedKey> | undefined {
    const mine = this.owned.get(id);
    if (mine) return mine;
    const theirs = this.current.get(id);
    if (!theirs && !create) return undefined;
    const copy = new Map(theirs);
    this.buckets ??= new Map(this.base.buckets);
    this.buckets.set(id, copy);
    this.owned.set(id, copy);
    return copy;
  }

  private deleteFrom(id: string, n: number): void {
    const bucket = this.bucketForWrite(id, false);
    if (!bucket?.delete(n)) return;
    this.count--;
    if (bucket.size === 0) {
      this.buckets!.delete(id);
      this.owned.delete(id);
    }
  }

  private oldest(): { id: string; key: SkippedKey } | undefined {
    for (const [id, bucket] of this.current) {
      for (const key of bucket.values()) return { id, key };
    }
    return undefined;
  }

  /**
   * Deletes expired keys from the front. A clock that went backwards can leave an expired key
   * behind a live one; `take` still refuses it.
   */
  purgeExpired(): void {
    for (let o = this.oldest(); o && isExpired(o.key, this.now); o = this.oldest()) this.deleteFrom(o.id, o.key.n);
  }

  /** Removes and returns the message key for (chain, n); an expired key is removed, not returned. */
  take(ratchetKeyHex: string, n: number): Uint8Array | undefined {
    const id = bucketId(ratchetKeyHex, n);
    const k = this.current.get(id)?.get(n);
    if (!k) return undefined;
    this.deleteFrom(id, n);
    return isExpired(k, this.now) ? undefined : k.messageKey;
  }

  /** Stores a skipped key, evicting the oldest when the session cap is reached. */
  add(ratchetKey: Uint8Array, ratchetKeyHex: string, n: number, messageKey: Uint8Array, createdAt = this.now): void {
    const bucket = this.bucketForWrite(bucketId(ratchetKeyHex, n), true)!;
    if (!bucket.has(n)) this.count++;
    bucket.set(n, { ratchetKey, n, messageKey, createdAt });
    if (this.count > MAX_SKIPPED_KEYS) {
      const o = this.oldest()!;
      this.deleteFrom(o.id, o.key.n);
    }
  }

  /** Forgets every key of one chain (when that chain falls off the old-chains list). */
  dropChain(ratchetKeyHex: string): void {
    const prefix = `${ratchetKeyHex}:`;
    for (const [id, bucket] of this.current) {
      if (!id.startsWith(prefix)) continue;
      this.buckets ??= new Map(this.base.buckets);
      this.buckets.delete(id);
      this.owned.delete(id);
      this.count -= bucket.size;
    }
  }

  /** The result: the original object when nothing changed. */
  finish(): SkippedKeys {
    return this.buckets ? { size: this.count, buckets: this.buckets } : this.base;
  }
}

/**
 * Skipped message keys stored apart from the ratchet head (ratchet-state.ts version 2), one value
 * per bucket of SkippedKeys (skipped-keys.ts: up to 32 consecutive numbers of one chain), so a
 * message that uses, adds or expires a key rewrites one small bucket and not all 2000 keys:
 *
 *   version u8 (1) || typed chain key 33 || u32 bucket number || u8 count (1..32)
 *   || count x (u8 offset in the bucket (0..31) || message key 32 || u64 createdAt)
 *
 * Keys keep their order inside the bucket (the order they were skipped in). `withSkippedKeys`
 * puts decoded buckets back under a decoded head and checks every invariant the ratchet relies
 * on, as the version 1 decoder does: each key's chain is one the head knows, each key lies below
 * its chain's end, no bucket or key repeats, and the session cap holds. Any violation is
 * DecodeFailed, never a silently different state. Knows nothing of storage or sealing.
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter, bytesEqual, toHex } from '../../codec/bytes';
import { KeyType, encodeKey, readKey } from '../../codec/keys';
import type { RatchetState } from './double-ratchet';
import { MAX_MESSAGE_NUMBER, MAX_SKIPPED_KEYS } from './limits';
import { knownChains } from './ratchet-state';
import { BUCKET_SIZE, NO_SKIPPED_KEYS, SkippedKeysDraft, bucketNumber, type SkippedKey } from './skipped-keys';

export const SKIPPED_BUCKET_VERSION = 1;
const KEY_LEN = 32;

export interface SkippedBucket {
  /** Their ratchet public key of the chain. */
  ratchetKey: Uint8Array;
  /** n >>> 5 of every key in it. */
  bucket: number;
  keys: { n: number; messageKey: Uint8Array; createdAt: number }[];
}

/** One bucket of a state's SkippedKeys (all its keys share one chain and one bucket number). */
export function encodeSkippedBucket(keys: ReadonlyMap<number, SkippedKey>): Uint8Array {
  const all = [...keys.values()];
  const first = all[0];
  if (!first || all.length > BUCKET_SIZE) fail('InvalidArgument', `a bucket of ${all.length} keys`);
  const bucket = bucketNumber(first.n);
  const w = new ByteWriter(39 + all.length * (1 + KEY_LEN + 8)).u8(SKIPPED_BUCKET_VERSION).raw(encodeKey(KeyType.X25519, first.ratchetKey)).u32(bucket).u8(all.length);
  for (const k of all) {
    const sameChain = k.ratchetKey === first.ratchetKey || bytesEqual(k.ratchetKey, first.ratchetKey);
    if (bucketNumber(k.n) !== bucket || !sameChain) fail('InvalidArgument', `key ${k.n} is not in bucket ${bucket}`);
    w.u8(k.n - bucket * BUCKET_SIZE).fixed(k.messageKey, KEY_LEN).u64(k.createdAt);
  }
  return w.finish();
}

export function decodeSkippedBucket(b: Uint8Array): SkippedBucket {
  const r = new ByteReader(b, 'skipped-key bucket');
  const version = r.u8();
  if (version !== SKIPPED_BUCKET_VERSION) fail('UnsupportedVersion', `skipped-key bucket version ${version}`);
  const ratchetKey = readKey(r, KeyType.X25519);
  const bucket = r.u32();
  if (bucket > bucketNumber(MAX_MESSAGE_NUMBER)) fail('DecodeFailed', `skipped-key bucket ${bucket} out of range`);
  const count = r.u8();
  if (count === 0 || count > BUCKET_SIZE) fail('DecodeFailed', `skipped-key bucket of ${count} keys`);
  const seen = new Set<number>();
  const keys: SkippedBucket['keys'] = [];
  for (let i = 0; i < count; i++) {
    const offset = r.u8();
    if (offset >= BUCKET_SIZE || seen.has(offset)) fail('DecodeFailed', `skipped-key bucket: offset ${offset} repeated or out of range`);
    seen.add(offset);
    keys.push({ n: bucket * BUCKET_SIZE + offset, messageKey: r.fixed(KEY_LEN), createdAt: r.u64() });
  }
  r.end();
  return { ratchetKey, bucket, keys };
}

/**
 * `head` (no skipped keys) with `buckets` added back, in the given order (oldest first, as the
 * state listed them). Keys take their chain's key object from the head, as the ratchet shares it.
 */
export function withSkippedKeys(head: RatchetState, buckets: readonly SkippedBucket[]): RatchetState {
  if (head.skipped.size !== 0) fail('InvalidArgument', 'the head already holds skipped keys');
  if (buckets.length === 0) return head;
  const chains = knownChains(head);
  const skipped = new SkippedKeysDraft(NO_SKIPPED_KEYS, 0);
  const seen = new Set<string>();
  let total = 0;
  for (const b of buckets) {
    const hex = toHex(b.ratchetKey);
    const chain = chains.get(hex);
    if (!chain) fail('DecodeFailed', `skipped keys for a chain the session does not know (bucket ${b.bucket})`);
    const id = `${hex}:${b.bucket}`;
    if (seen.has(id)) fail('DecodeFailed', `skipped-key bucket ${b.bucket} repeated`);
    seen.add(id);
    total += b.keys.length;
    if (total > MAX_SKIPPED_KEYS) fail('DecodeFailed', `more than ${MAX_SKIPPED_KEYS} skipped keys`);
    for (const k of b.keys) {
      if (k.n >= chain.end) fail('DecodeFailed', `skipped key ${k.n} at or beyond its chain end ${chain.end}`);
      skipped.add(chain.key, hex, k.n, k.messageKey, k.createdAt);
    }
  }
  return { ...head, skipped: skipped.finish() };
}

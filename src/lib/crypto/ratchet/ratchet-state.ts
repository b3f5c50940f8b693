/**
 * Strict, versioned storage encodings of a Double Ratchet state (worker-local, never on the wire).
 *
 * Version 1, the whole state in one value (kept: vaults written before schema v3 hold it):
 *
 *   version u8 (1) || HEAD
 *   || u8 chain-table count (<= 6) x typed key 33
 *   || u16 skipped count (<= 2000) x (u8 chain index || u32 n || message key 32 || u64 createdAt)
 *
 * Version 2, the HEAD only: the state without its skipped message keys, which are stored apart in
 * buckets (skipped-bucket.ts) so the value rewritten on every message stays small:
 *
 *   version u8 (2) || HEAD
 *
 *   HEAD = RK 32 || typed DHs public (33) || DHs private 32
 *   || flags u8 (bit0 DHr, bit1 CKs, bit2 CKr; other bits zero) || [typed DHr 33] [CKs 32] [CKr 32]
 *   || u32 Ns || u32 Nr || u32 PN
 *   || u8 old-chain count (<= 5) x (typed key 33 || u32 length)
 *
 * Skipped keys name their chain by an index into a table of the (at most six) ratchet keys in use,
 * saving 32 bytes a key. The encodings are canonical: the decoder checks every invariant the
 * ratchet relies on (known chains, no duplicates, keys below their chain's end, caps, table in
 * first-use order) and fails with DecodeFailed, so decode(encode(s)) re-encodes to the same bytes.
 * Knows the state's shape only; no key derivation happens here.
 */
import { fail } from '../../codec/errors';
import { X25519_LEN } from '../primitives';
import type { OldChain, RatchetState } from './double-ratchet';
import { MAX_MESSAGE_NUMBER, MAX_OLD_CHAINS, MAX_SKIPPED_KEYS } from './limits';
import { NO_SKIPPED_KEYS, SkippedKeysDraft, bucketId, skippedEntries } from './skipped-keys';
import { ByteReader, ByteWriter, bytesEqual, toHex } from '../../codec/bytes';
import { KeyType, encodeKey, readKey } from '../../codec/keys';

export const RATCHET_STATE_VERSION = 1;
/** Version byte of a head-only encoding (the state without its skipped keys). */
export const RATCHET_HEAD_VERSION = 2;
const KEY_LEN = 32;
const FLAG_THEIR_KEY = 1;
const FLAG_SENDING = 2;
const FLAG_RECEIVING = 4;
const MAX_CHAIN_TABLE = MAX_OLD_CHAINS + 1;

/** A chain's ratchet public key and the end of the chain (its next message number). */
export interface ChainEnd {
  key: Uint8Array;
  end: number;
}

function writeHead(w: ByteWriter, s: RatchetState): void {
  w.fixed(s.rootKey, KEY_LEN);
  w.raw(encodeKey(KeyType.X25519, s.ourRatchetKey.publicKey)).fixed(s.ourRatchetKey.privateKey, X25519_LEN);
  const flags =
    (s.theirRatchetKey ? FLAG_THEIR_KEY : 0) | (s.sendingChainKey ? FLAG_SENDING : 0) | (s.receivingChainKey ? FLAG_RECEIVING : 0);
  w.u8(flags);
  if (s.theirRatchetKey) w.raw(encodeKey(KeyType.X25519, s.theirRatchetKey));
  if (s.sendingChainKey) w.fixed(s.sendingChainKey, KEY_LEN);
  if (s.receivingChainKey) w.fixed(s.receivingChainKey, KEY_LEN);
  w.u32(s.sendN).u32(s.recvN).u32(s.prevSendN);

  if (s.oldChains.length > MAX_OLD_CHAINS) fail('InvalidArgument', `${s.oldChains.length} old chains exceed ${MAX_OLD_CHAINS}`);
  w.u8(s.oldChains.length);
  for (const c of s.oldChains) w.raw(encodeKey(KeyType.X25519, c.ratchetKey)).u32(c.length);
}

/** Version 1: the whole state, skipped keys included. */
export function encodeRatchetState(s: RatchetState): Uint8Array {
  const w = new ByteWriter().u8(RATCHET_STATE_VERSION);
  writeHead(w, s);

  // Chain table in order of first use; entries usually share their chain's key object.
  if (s.skipped.size > MAX_SKIPPED_KEYS) fail('InvalidArgument', `${s.skipped.size} skipped keys exceed ${MAX_SKIPPED_KEYS}`);
  const byRef = new Map<Uint8Array, number>();
  const byHex = new Map<string, number>();
  const table: Uint8Array[] = [];
  const entries = new ByteWriter();
  for (const k of skippedEntries(s.skipped)) {
    let index = byRef.get(k.ratchetKey);
    if (index === undefined) {
      const hex = toHex(k.ratchetKey);
      index = byHex.get(hex);
      if (index === undefined) {
        index = table.length;
        table.push(k.ratchetKey);
        byHex.set(hex, index);
      }
      byRef.set(k.ratchetKey, index);
    }
    entries.u8(index).u32(k.n).fixed(k.messageKey, KEY_LEN).u64(k.createdAt);
  }
  if (table.length > MAX_CHAIN_TABLE) fail('InvalidArgument', `skipped keys span ${table.length} chains`);
  w.u8(table.length);
  for (const key of table) w.raw(encodeKey(KeyType.X25519, key));
  return w.u16(s.skipped.size).raw(entries.finish()).finish();
}

function readCounter(r: ByteReader, name: string, max: number): number {
  const v = r.u32();
  if (v > max) fail('DecodeFailed', `ratchet state: ${name} ${v} exceeds ${max}`);
  return v;
}

/** The head fields, and every chain the state knows with its end (skipped keys must lie below it). */
function readHead(r: ByteReader): { head: RatchetState; chainEnds: Map<string, ChainEnd> } {
  const rootKey = r.fixed(KEY_LEN);
  const ourRatchetKey = { publicKey: readKey(r, KeyType.X25519), privateKey: r.fixed(X25519_LEN) };
  const flags = r.u8();
  if (flags & ~(FLAG_THEIR_KEY | FLAG_SENDING | FLAG_RECEIVING)) fail('DecodeFailed', `ratchet state: flags ${flags}`);
  if (flags & FLAG_RECEIVING && !(flags & FLAG_THEIR_KEY)) fail('DecodeFailed', 'ratchet state: receiving chain without their key');
  const theirRatchetKey = flags & FLAG_THEIR_KEY ? readKey(r, KeyType.X25519) : null;
  const sendingChainKey = flags & FLAG_SENDING ? r.fixed(KEY_LEN) : null;
  const receivingChainKey = flags & FLAG_RECEIVING ? r.fixed(KEY_LEN) : null;
  const sendN = readCounter(r, 'Ns', MAX_MESSAGE_NUMBER + 1);
  const recvN = readCounter(r, 'Nr', MAX_MESSAGE_NUMBER + 1);
  const prevSendN = readCounter(r, 'PN', MAX_MESSAGE_NUMBER + 1);
  if (!receivingChainKey && recvN !== 0) fail('DecodeFailed', `ratchet state: Nr ${recvN} without a receiving chain`);

  // Every ratchet key the state knows, with the end of its chain (skipped keys must lie below it).
  const chainEnds = new Map<string, ChainEnd>();
  if (theirRatchetKey) chainEnds.set(toHex(theirRatchetKey), { key: theirRatchetKey, end: recvN });
  const oldCount = r.u8();
  if (oldCount > MAX_OLD_CHAINS) fail('DecodeFailed', `ratchet state: ${oldCount} old chains exceed ${MAX_OLD_CHAINS}`);
  const oldChains: OldChain[] = [];
  for (let i = 0; i < oldCount; i++) {
    const ratchetKey = readKey(r, KeyType.X25519);
    const length = readCounter(r, 'old chain length', MAX_MESSAGE_NUMBER + 1);
    const hex = toHex(ratchetKey);
    if (chainEnds.has(hex)) fail('DecodeFailed', 'ratchet state: repeated chain key');
    chainEnds.set(hex, { key: ratchetKey, end: length });
    oldChains.push({ ratchetKey, length });
  }
  if (bytesEqual(ourRatchetKey.publicKey, theirRatchetKey ?? new Uint8Array(0))) fail('DecodeFailed', 'ratchet state: DHs equals DHr');
  const head: RatchetState = {
    rootKey,
    ourRatchetKey,
    theirRatchetKey,
    sendingChainKey,
    receivingChainKey,
    sendN,
    recvN,
    prevSendN,
    oldChains,
    skipped: NO_SKIPPED_KEYS
  };
  return { head, chainEnds };
}

/** Version 1: the whole state, skipped keys included. */
export function decodeRatchetState(b: Uint8Array): RatchetState {
  const r = new ByteReader(b, 'ratchet state');
  const version = r.u8();
  if (version !== RATCHET_STATE_VERSION) fail('UnsupportedVersion', `ratchet state version ${version}`);
  const { head, chainEnds } = readHead(r);

  const tableCount = r.u8();
  if (tableCount > MAX_CHAIN_TABLE) fail('DecodeFailed', `ratchet state: chain table of ${tableCount}`);
  const table: { key: Uint8Array; hex: string; end: number }[] = [];
  for (let i = 0; i < tableCount; i++) {
    const hex = toHex(readKey(r, KeyType.X25519));
    const chain = chainEnds.get(hex);
    if (!chain) fail('DecodeFailed', `ratchet state: skipped keys for unknown chain ${i}`);
    if (table.some((t) => t.hex === hex)) fail('DecodeFailed', 'ratchet state: repeated chain-table key');
    table.push({ key: chain.key, hex, end: chain.end });
  }
  const count = r.u16();
  if (count > MAX_SKIPPED_KEYS) fail('DecodeFailed', `ratchet state: ${count} skipped keys exceed ${MAX_SKIPPED_KEYS}`);
  // Rebuilt through the ratchet's own editor; createdAt is kept, so nothing expires here.
  const skipped = new SkippedKeysDraft(NO_SKIPPED_KEYS, 0);
  let lastBucket = '';
  const seenBuckets = new Set<string>();
  let used = 0;
  for (let i = 0; i < count; i++) {
    const index = r.u8();
    // Canonical table order: each chain first appears right after the ones before it.
    if (index > used || index >= tableCount) fail('DecodeFailed', `ratchet state: chain index ${index} out of order`);
    if (index === used) used++;
    const chain = table[index]!;
    const n = r.u32();
    if (n >= chain.end) fail('DecodeFailed', `ratchet state: skipped key ${n} at or beyond its chain end ${chain.end}`);
    const messageKey = r.fixed(KEY_LEN);
    const createdAt = r.u64();
    // Canonical order: a bucket's keys are contiguous, so re-encoding gives the same bytes.
    const bucket = bucketId(chain.hex, n);
    if (bucket !== lastBucket) {
      if (seenBuckets.has(bucket)) fail('DecodeFailed', `ratchet state: skipped key ${n} out of order`);
      seenBuckets.add(bucket);
      lastBucket = bucket;
    }
    const before = skipped.size;
    skipped.add(chain.key, chain.hex, n, messageKey, createdAt);
    if (skipped.size === before) fail('DecodeFailed', `ratchet state: skipped key ${n} repeated`);
  }
  if (used !== tableCount) fail('DecodeFailed', `ratchet state: ${tableCount - used} unused chain-table keys`);
  r.end();
  return { ...head, skipped: skipped.finish() };
}

/** Version 2: the state without its skipped keys (they are stored apart, skipped-bucket.ts). */
export function encodeRatchetHead(s: RatchetState): Uint8Array {
  const w = new ByteWriter(256).u8(RATCHET_HEAD_VERSION);
  writeHead(w, s);
  return w.finish();
}

/** Version 2: a state with no skipped keys; `withSkippedKeys` adds the stored ones back. */
export function decodeRatchetHead(b: Uint8Array): RatchetState {
  const r = new ByteReader(b, 'ratchet head');
  const version = r.u8();
  if (version !== RATCHET_HEAD_VERSION) fail('UnsupportedVersion', `ratchet head version ${version}`);
  const { head } = readHead(r);
  r.end();
  return head;
}

/** Every chain `s` knows (its current receiving chain and the old ones) by key hex, with its end. */
export function knownChains(s: RatchetState): Map<string, ChainEnd> {
  const out = new Map<string, ChainEnd>();
  if (s.theirRatchetKey) out.set(toHex(s.theirRatchetKey), { key: s.theirRatchetKey, end: s.recvN });
  for (const c of s.oldChains) out.set(toHex(c.ratchetKey), { key: c.ratchetKey, end: c.length });
  return out;
}

/**
 * The plaintext of a contact's session row (schema v3, session-repo.ts): their sessions, current
 * first, each as its head (session-state.ts version 2) with the list of its skipped-key rows.
 *
 *   version u8 (1) || u8 session count (1..MAX)
 *   || count x ( sid 8 || u16 bucket count (<= MAX_BUCKETS)
 *                || buckets x (chain key 32 || u32 bucket number || row nonce 24)
 *                || u32-length session head )
 *
 * `sid` names the session's skipped-key rows and stays with it while it lives. Each bucket entry
 * names one row and pins the exact value stored there by its nonce (fresh on every seal), so a
 * row that is missing, stale or swapped in from elsewhere is detected on load, not used. Buckets
 * are listed in the order the state holds them (oldest first), which is the order they are put
 * back in. Knows nothing of IndexedDB or sealing.
 */
import { fail } from '../../src/lib/codec/errors';
import { ByteReader, toHex } from '../../src/lib/codec/bytes';
import { MAX_SKIPPED_KEYS } from '../../src/lib/crypto/ratchet/limits';

export const SESSION_LAYOUT_VERSION = 1;
export const SID_LEN = 8;
export const ROW_NONCE_LEN = 24;
const CHAIN_KEY_LEN = 32;
const BUCKET_ENTRY_LEN = CHAIN_KEY_LEN + 4 + ROW_NONCE_LEN;
/** Session heads are a few hundred bytes (a pending PreKeyMessage header makes ~1.9 KB). */
const MAX_HEAD = 64 * 1024;
/** Every bucket holds at least one key. */
const MAX_BUCKETS = MAX_SKIPPED_KEYS;

export interface BucketEntry {
  chainKey: Uint8Array;
  bucket: number;
  /** Nonce of the sealed value the row must hold. */
  nonce: Uint8Array;
}

export interface SessionEntry {
  sid: Uint8Array;
  buckets: BucketEntry[];
  head: Uint8Array;
}

/** The id a bucket has in SkippedKeys (skipped-keys.ts `bucketId`). */
export function entryBucketId(e: BucketEntry): string {
  return `${toHex(e.chainKey)}:${e.bucket}`;
}

/** Written into one buffer: this runs on every message. */
export function encodeSessionLayout(sessions: readonly SessionEntry[], maxSessions: number): Uint8Array {
  if (sessions.length === 0 || sessions.length > maxSessions) fail('InvalidArgument', `${sessions.length} sessions in one row`);
  let size = 2;
  for (const s of sessions) {
    if (s.sid.length !== SID_LEN || s.buckets.length > MAX_BUCKETS) fail('InvalidArgument', 'malformed session entry');
    size += SID_LEN + 2 + s.buckets.length * BUCKET_ENTRY_LEN + 4 + s.head.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = SESSION_LAYOUT_VERSION;
  out[1] = sessions.length;
  let o = 2;
  for (const s of sessions) {
    out.set(s.sid, o);
    view.setUint16(o + SID_LEN, s.buckets.length);
    o += SID_LEN + 2;
    for (const b of s.buckets) {
      if (b.chainKey.length !== CHAIN_KEY_LEN || b.nonce.length !== ROW_NONCE_LEN) fail('InvalidArgument', 'malformed bucket entry');
      out.set(b.chainKey, o);
      view.setUint32(o + CHAIN_KEY_LEN, b.bucket);
      out.set(b.nonce, o + CHAIN_KEY_LEN + 4);
      o += BUCKET_ENTRY_LEN;
    }
    view.setUint32(o, s.head.length);
    out.set(s.head, o + 4);
    o += 4 + s.head.length;
  }
  return out;
}

export function decodeSessionLayout(bytes: Uint8Array, maxSessions: number): SessionEntry[] {
  const r = new ByteReader(bytes, 'session row');
  const version = r.u8();
  if (version !== SESSION_LAYOUT_VERSION) fail('UnsupportedVersion', `session row version ${version}`);
  const count = r.u8();
  if (count === 0 || count > maxSessions) fail('DecodeFailed', `session row of ${count} sessions`);
  const out: SessionEntry[] = [];
  const sids = new Set<string>();
  for (let i = 0; i < count; i++) {
    const sid = r.fixed(SID_LEN);
    const hex = toHex(sid);
    if (sids.has(hex)) fail('DecodeFailed', 'session row: repeated session id');
    sids.add(hex);
    const n = r.u16();
    if (n > MAX_BUCKETS) fail('DecodeFailed', `session row: ${n} buckets`);
    const buckets: BucketEntry[] = [];
    for (let j = 0; j < n; j++) buckets.push({ chainKey: r.fixed(CHAIN_KEY_LEN), bucket: r.u32(), nonce: r.fixed(ROW_NONCE_LEN) });
    out.push({ sid, buckets, head: r.bytes32(MAX_HEAD) });
  }
  r.end();
  return out;
}

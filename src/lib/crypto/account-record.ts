/**
 * The account record (DESIGN.md §7, SECURITY.md P26): everything a new browser needs to come back
 * as the same account — identity key pair, profile and profile key, settings, contacts with
 * their verification state, block list, groups (reserved) — sealed under the master secret that
 * PIN recovery restores, and stored on the host, which sees only ciphertext of a bucketed size.
 *
 *   key       = HKDF-SHA256(salt = 0^32, ikm = masterSecret, info = L_key, 32)
 *   padded    = record || 0x80 || 0x00..  to a power-of-two bucket of at least 1 KiB
 *   sealed    = version u8 || nonce[24] || XChaCha20-Poly1305(key, nonce, padded, AD)
 *   AD        = L_ad || version || username  (a record replayed under another username fails)
 *
 * Nothing is compressed (P26: compression would make the size depend on content); records of
 * similar size seal to the same length, so the host learns the number of contacts and groups only
 * within a factor of two. The plaintext's versioned codec is account-record-codec.ts (version 1
 * records still open). Inputs are never mutated. Knows nothing of storage or PINs.
 */
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import { Labels, labelBytes } from './labels';
import { aeadDecrypt, aeadEncrypt, AEAD_NONCE_LEN, AEAD_TAG_LEN, wipe } from './primitives';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { decodeAccountRecord, encodeAccountRecord, type AccountRecord } from './account-record-codec';

export * from './account-record-codec';

export const SEALED_RECORD_VERSION = 1;
export const MIN_BUCKET = 1024;
export const MAX_BUCKET = 4 * 1024 * 1024;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The bucket a plaintext of n bytes pads to (room for the 0x80 marker included). */
export function accountRecordBucket(n: number): number {
  let b = MIN_BUCKET;
  while (b < n + 1) b *= 2;
  if (b > MAX_BUCKET) fail('InvalidArgument', `account record of ${n} bytes exceeds ${MAX_BUCKET - 1}`);
  return b;
}

function pad(plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(accountRecordBucket(plain.length));
  out.set(plain);
  out[plain.length] = 0x80;
  return out;
}

function unpad(padded: Uint8Array): Uint8Array {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80 || accountRecordBucket(i) !== padded.length) fail('DecodeFailed', `account record: bad padding in a ${padded.length}-byte bucket`);
  return padded.slice(0, i);
}

/**
 * The record's AEAD key. A browser keeps this key, not the master secret (P37): it can keep the
 * record up to date but cannot derive the takeover key from it.
 */
export function accountRecordKey(masterSecret: Uint8Array): Uint8Array {
  if (masterSecret.length !== 32) fail('InvalidArgument', `master secret of ${masterSecret.length} bytes`);
  return hkdf(new Uint8Array(32), masterSecret, labelBytes(Labels.accountRecordKey), 32);
}

function recordAd(username: string): Uint8Array {
  return new ByteWriter().bytes16(labelBytes(Labels.accountRecordAd)).u8(SEALED_RECORD_VERSION).bytes16(utf8(username)).finish();
}

/** Length of the sealed form of a record whose encoding is n bytes. */
export function sealedLength(n: number): number {
  return 1 + AEAD_NONCE_LEN + accountRecordBucket(n) + AEAD_TAG_LEN;
}

export function sealAccountRecord(record: AccountRecord, masterSecret: Uint8Array, username: string, deps: Deps): Uint8Array {
  const key = accountRecordKey(masterSecret);
  try {
    return sealAccountRecordWithKey(record, key, username, deps);
  } finally {
    wipe(key);
  }
}

/** Seals under a key from `accountRecordKey` (the caller keeps and wipes it). */
export function sealAccountRecordWithKey(record: AccountRecord, recordKey: Uint8Array, username: string, deps: Deps): Uint8Array {
  if (recordKey.length !== 32) fail('InvalidArgument', `record key of ${recordKey.length} bytes`);
  const key = recordKey.slice();
  const padded = pad(encodeAccountRecord(record));
  const nonce = deps.rng(AEAD_NONCE_LEN);
  try {
    return new ByteWriter().u8(SEALED_RECORD_VERSION).fixed(nonce, AEAD_NONCE_LEN).raw(aeadEncrypt(key, nonce, padded, recordAd(username))).finish();
  } finally {
    wipe(key, padded);
  }
}

/** InvalidMac for a wrong key, wrong username or any tampering; DecodeFailed for a malformed envelope. */
export function openAccountRecord(sealed: Uint8Array, masterSecret: Uint8Array, username: string): AccountRecord {
  if (sealed.length > 1 + AEAD_NONCE_LEN + MAX_BUCKET + AEAD_TAG_LEN) fail('DecodeFailed', `sealed account record of ${sealed.length} bytes too large`);
  const r = new ByteReader(sealed, 'sealed account record');
  const version = r.u8();
  if (version !== SEALED_RECORD_VERSION) fail('UnsupportedVersion', `sealed account record version ${version}`);
  const nonce = r.fixed(AEAD_NONCE_LEN);
  const box = r.rest();
  const bucket = box.length - AEAD_TAG_LEN;
  if (bucket < MIN_BUCKET || (bucket & (bucket - 1)) !== 0) fail('DecodeFailed', `sealed account record: ${bucket}-byte body is not a bucket`);
  const key = accountRecordKey(masterSecret);
  let padded: Uint8Array | undefined;
  try {
    padded = aeadDecrypt(key, nonce, box, recordAd(username));
    const plain = unpad(padded);
    try {
      return decodeAccountRecord(plain);
    } finally {
      wipe(plain);
    }
  } finally {
    wipe(key, padded);
  }
}

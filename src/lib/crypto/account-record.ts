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
 * similar size seal to the same length. Decoding is strict and canonical (sorted, unique entries,
 * bounded fields, valid UTF-8); inputs are never mutated. Knows nothing of storage or PINs.
 */
import { fail, isProtocolError } from '../codec/errors';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import { Labels, labelBytes } from './labels';
import { aeadDecrypt, aeadEncrypt, AEAD_NONCE_LEN, AEAD_TAG_LEN, wipe } from './primitives';
import { decodeIdentityKeyPair, encodeIdentityKeyPair, encodeIdentityPublic, readIdentityPublic, verifyIdentity, type IdentityKeyPair, type IdentityPublic } from './identity';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { asUsername, type Username } from '../codec/username';

export const ACCOUNT_RECORD_VERSION = 1;
export const SEALED_RECORD_VERSION = 1;
export const PROFILE_KEY_LEN = 32;
const IDENTITY_KEY_PAIR_LEN = 1 + 64 + 32 + 64;
export const MIN_BUCKET = 1024;
export const MAX_BUCKET = 4 * 1024 * 1024;
/** Bounds (each with room to grow): a record far beyond them is an attack or a bug. */
export const LIMITS = { displayName: 256, settings: 64, settingKey: 64, settingValue: 1024, contacts: 10_000, blocked: 10_000 } as const;

export interface Contact {
  username: Username;
  identity: IdentityPublic;
  verified: boolean;
  /** When the user last verified this contact's safety number (ms since epoch), if ever. */
  verifiedAt: number | null;
}

export interface AccountRecord {
  identity: IdentityKeyPair;
  profile: { displayName: string };
  profileKey: Uint8Array;
  /** Free-form settings of later features, serialised by their owners. */
  settings: Readonly<Record<string, string>>;
  contacts: readonly Contact[];
  blocked: readonly Username[];
  /** Reserved for groups; must be empty in version 1. */
  groups: readonly never[];
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readString(r: ByteReader, max: number, what: string): string {
  const b = r.bytes16(max);
  try {
    return strict.decode(b);
  } catch {
    fail('DecodeFailed', `account record: ${what} is not valid UTF-8`);
  }
}

/** Entries must be strictly increasing: one canonical encoding, no duplicates. */
function checkSorted(keys: readonly string[], what: string, code: 'InvalidArgument' | 'DecodeFailed'): void {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) fail(code, `account record: ${what} not sorted or duplicated at ${i}`);
}

export function encodeAccountRecord(a: AccountRecord): Uint8Array {
  const name = utf8(a.profile.displayName);
  if (name.length > LIMITS.displayName) fail('InvalidArgument', `display name of ${name.length} bytes exceeds ${LIMITS.displayName}`);
  const settings = Object.keys(a.settings).sort();
  if (settings.length > LIMITS.settings) fail('InvalidArgument', `${settings.length} settings exceed ${LIMITS.settings}`);
  const contacts = [...a.contacts].sort((x, y) => (x.username < y.username ? -1 : x.username > y.username ? 1 : 0));
  const blocked = [...a.blocked].sort();
  checkSorted(contacts.map((c) => c.username), 'contacts', 'InvalidArgument');
  checkSorted(blocked, 'blocked', 'InvalidArgument');
  if (contacts.length > LIMITS.contacts || blocked.length > LIMITS.blocked) fail('InvalidArgument', 'too many contacts or blocked users');
  if (a.groups.length !== 0) fail('InvalidArgument', 'groups are reserved in account record version 1');

  const w = new ByteWriter().u8(ACCOUNT_RECORD_VERSION).fixed(encodeIdentityKeyPair(a.identity), IDENTITY_KEY_PAIR_LEN).fixed(a.profileKey, PROFILE_KEY_LEN).bytes16(name);
  w.u16(settings.length);
  for (const k of settings) {
    const key = utf8(k);
    const value = utf8(a.settings[k]!);
    if (key.length === 0 || key.length > LIMITS.settingKey || value.length > LIMITS.settingValue) fail('InvalidArgument', `setting of ${key.length}+${value.length} bytes out of bounds`);
    w.bytes16(key).bytes16(value);
  }
  w.u32(contacts.length);
  for (const c of contacts) {
    w.bytes16(utf8(asUsername(c.username, 'InvalidArgument'))).raw(encodeIdentityPublic(c.identity)).u8(c.verified ? 1 : 0);
    if (c.verifiedAt === null) w.u8(0);
    else w.u8(1).u64(c.verifiedAt);
  }
  w.u32(blocked.length);
  for (const u of blocked) w.bytes16(utf8(asUsername(u, 'InvalidArgument')));
  return w.u16(0).finish();
}

function readFlag(r: ByteReader, what: string): boolean {
  const v = r.u8();
  if (v > 1) fail('DecodeFailed', `account record: ${what} flag ${v}`);
  return v === 1;
}

export function decodeAccountRecord(bytes: Uint8Array): AccountRecord {
  const r = new ByteReader(bytes, 'account record');
  const version = r.u8();
  if (version !== ACCOUNT_RECORD_VERSION) fail('UnsupportedVersion', `account record version ${version}`);
  let identity: IdentityKeyPair;
  try {
    identity = decodeIdentityKeyPair(r.fixed(IDENTITY_KEY_PAIR_LEN));
  } catch (e) {
    if (isProtocolError(e, 'DecodeFailed')) throw e;
    fail('DecodeFailed', 'account record: invalid identity key pair');
  }
  const profileKey = r.fixed(PROFILE_KEY_LEN);
  const displayName = readString(r, LIMITS.displayName, 'display name');
  const settings: Record<string, string> = {};
  const settingCount = r.u16();
  if (settingCount > LIMITS.settings) fail('DecodeFailed', `account record: ${settingCount} settings exceed ${LIMITS.settings}`);
  const keys: string[] = [];
  for (let i = 0; i < settingCount; i++) {
    const k = readString(r, LIMITS.settingKey, 'setting key');
    if (k.length === 0) fail('DecodeFailed', 'account record: empty setting key');
    keys.push(k);
    settings[k] = readString(r, LIMITS.settingValue, 'setting value');
  }
  checkSorted(keys, 'settings', 'DecodeFailed');
  const contactCount = r.u32();
  if (contactCount > LIMITS.contacts) fail('DecodeFailed', `account record: ${contactCount} contacts exceed ${LIMITS.contacts}`);
  const contacts: Contact[] = [];
  for (let i = 0; i < contactCount; i++) {
    const username = asUsername(readString(r, 64, 'contact username'), 'DecodeFailed');
    const id = readIdentityPublic(r);
    verifyIdentity(id);
    const verified = readFlag(r, 'verified');
    const verifiedAt = readFlag(r, 'verifiedAt') ? r.u64() : null;
    contacts.push({ username, identity: id, verified, verifiedAt });
  }
  checkSorted(contacts.map((c) => c.username), 'contacts', 'DecodeFailed');
  const blockedCount = r.u32();
  if (blockedCount > LIMITS.blocked) fail('DecodeFailed', `account record: ${blockedCount} blocked exceed ${LIMITS.blocked}`);
  const blocked: Username[] = [];
  for (let i = 0; i < blockedCount; i++) blocked.push(asUsername(readString(r, 64, 'blocked username'), 'DecodeFailed'));
  checkSorted(blocked, 'blocked', 'DecodeFailed');
  if (r.u16() !== 0) fail('DecodeFailed', 'account record: groups are reserved in version 1');
  r.end();
  return { identity, profile: { displayName }, profileKey, settings, contacts, blocked, groups: [] };
}

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

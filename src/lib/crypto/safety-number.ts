/**
 * Safety numbers and their QR payload (DESIGN.md §4 "Safety numbers"; SECURITY.md P2, P3, P4).
 *
 * Modelled on Signal's NumericFingerprintGenerator: per party, an iterated SHA-512 over a
 * version, the party's identity keys and username; 30 digits per party, the two halves sorted so
 * both sides display the same 60 digits. The QR payload carries the raw 32-byte fingerprints so a
 * scan compares bytes, not digits.
 *
 * Binds key bytes (IKs and IKd) and usernames, never ids or storage handles. Knows nothing of
 * sessions, contacts or what "verified" means to the app; usernames must already be canonical.
 */
import { fail } from '../codec/errors';
import { verifyIdentity, type IdentityPublic } from './identity';
import { Labels, labelBytes } from './labels';
import { sha512 } from './primitives';
import { sodium } from './sodium';
import { ByteReader, ByteWriter, bytesEqual, concatBytes } from '../codec/bytes';
import { asUsername } from '../codec/username';
import { KeyType, encodeKey } from '../codec/keys';

/** Hashing version, also the QR payload's version byte: changing either changes both. */
export const SAFETY_NUMBER_VERSION = 1;
/** Signal's count: a second-preimage search on 30 digits costs 5200 SHA-512s per guess. */
export const SAFETY_NUMBER_ITERATIONS = 5200;
export const FINGERPRINT_LEN = 32;
const DIGIT_BYTES = 30;
const CHUNK_BYTES = 5;
const QR_LEN = 1 + 2 * FINGERPRINT_LEN;

export interface SafetyNumberInput {
  ourUsername: string;
  ourIdentity: IdentityPublic;
  theirUsername: string;
  theirIdentity: IdentityPublic;
}

export type QrVerdict = 'match' | 'mismatch' | 'wrong-version';

const encoder = new TextEncoder();

/**
 * The identity keys a safety number commits to: the typed encodings of IKs and IKd. The signature
 * over IKd is checked (verifyIdentity) but not hashed: the number names keys, and a signature is
 * not part of who someone is.
 */
function identityKeyBytes(id: IdentityPublic): Uint8Array {
  return concatBytes(encodeKey(KeyType.Ed25519, id.signingKey), encodeKey(KeyType.X25519, id.dhKey));
}

/** The full 64-byte iterated hash for one party. */
function iteratedHash(username: string, id: IdentityPublic): Uint8Array {
  // A non-canonical username ("Bob") would give a number the other side never shows: refuse it.
  asUsername(username);
  verifyIdentity(id);
  const key = identityKeyBytes(id);
  const start = new ByteWriter()
    .raw(labelBytes(Labels.safetyNumber))
    .u16(SAFETY_NUMBER_VERSION)
    .raw(key)
    .raw(encoder.encode(username))
    .finish();
  // hash_{i+1} = SHA-512(hash_i || key), SAFETY_NUMBER_ITERATIONS rounds in all; after the first
  // round every input is 64 + key.length bytes, so one buffer is reused.
  let hash = sha512(concatBytes(start, key));
  const buf = new Uint8Array(64 + key.length);
  buf.set(key, 64);
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) {
    buf.set(hash, 0);
    hash = sha512(buf);
  }
  return hash;
}

/** One party's 32-byte fingerprint (the bytes a QR code carries). */
export function fingerprint(username: string, id: IdentityPublic): Uint8Array {
  return iteratedHash(username, id).slice(0, FINGERPRINT_LEN);
}

/** 30 bytes -> 6 chunks of 5 bytes -> each a big-endian 40-bit integer mod 100000, 5 digits. */
function digitsOf(hash: Uint8Array): string {
  let out = '';
  for (let o = 0; o < DIGIT_BYTES; o += CHUNK_BYTES) {
    let v = 0;
    // 40 bits fit a double exactly (< 2^53).
    for (let j = 0; j < CHUNK_BYTES; j++) v = v * 256 + hash[o + j]!;
    out += String(v % 100000).padStart(5, '0');
  }
  return out;
}

/** 60 digits, identical on both sides: the two 30-digit halves in sorted order. */
export function safetyNumber(input: SafetyNumberInput): string {
  const ours = digitsOf(iteratedHash(input.ourUsername, input.ourIdentity));
  const theirs = digitsOf(iteratedHash(input.theirUsername, input.theirIdentity));
  return ours < theirs ? ours + theirs : theirs + ours;
}

/** "12345 67890 …": 12 groups of 5 digits. */
export function formatSafetyNumber(s: string): string {
  if (!/^[0-9]{60}$/.test(s)) fail('InvalidArgument', `safety number: ${s.length} characters, expected 60 digits`);
  return s.match(/[0-9]{5}/g)!.join(' ');
}

/** version(1) || our fingerprint(32) || their fingerprint(32), base64url without padding. */
export function qrPayload(input: SafetyNumberInput): string {
  const bytes = new ByteWriter()
    .u8(SAFETY_NUMBER_VERSION)
    .fixed(fingerprint(input.ourUsername, input.ourIdentity), FINGERPRINT_LEN)
    .fixed(fingerprint(input.theirUsername, input.theirIdentity), FINGERPRINT_LEN)
    .finish();
  return sodium().to_base64(bytes, sodium().base64_variants.URLSAFE_NO_PADDING);
}

export interface DecodedQr {
  version: number;
  /** Present only when the version is ours. */
  fingerprints?: { sender: Uint8Array; recipient: Uint8Array };
}

/** Strict: canonical base64url only; exact length for our version; DecodeFailed otherwise. */
export function decodeQrPayload(scanned: string): DecodedQr {
  const s = sodium();
  const variant = s.base64_variants.URLSAFE_NO_PADDING;
  if (scanned.length === 0 || scanned.length > 4 * QR_LEN) fail('DecodeFailed', `QR payload of ${scanned.length} characters`);
  let bytes: Uint8Array;
  try {
    bytes = s.from_base64(scanned, variant);
  } catch {
    fail('DecodeFailed', 'QR payload is not base64url');
  }
  // Re-encoding must give the same text: no whitespace, padding or alternative alphabets slip by.
  if (bytes.length === 0 || s.to_base64(bytes, variant) !== scanned) fail('DecodeFailed', 'QR payload not canonical base64url');
  const r = new ByteReader(bytes, 'safety-number QR');
  const version = r.u8();
  if (version !== SAFETY_NUMBER_VERSION) return { version };
  const sender = r.fixed(FINGERPRINT_LEN);
  const recipient = r.fixed(FINGERPRINT_LEN);
  r.end();
  return { version, fingerprints: { sender, recipient } };
}

/**
 * Checks a payload scanned from the OTHER person's screen: there "ours" was theirs, so the
 * sender fingerprint must be theirs and the recipient fingerprint ours.
 */
export function verifyQrPayload(scanned: string, input: SafetyNumberInput): QrVerdict {
  const decoded = decodeQrPayload(scanned);
  if (!decoded.fingerprints) return 'wrong-version';
  const theirs = fingerprint(input.theirUsername, input.theirIdentity);
  const ours = fingerprint(input.ourUsername, input.ourIdentity);
  // Both comparisons always run (bytesEqual is constant-time): no early exit to time.
  const senderOk = bytesEqual(decoded.fingerprints.sender, theirs);
  const recipientOk = bytesEqual(decoded.fingerprints.recipient, ours);
  return senderOk && recipientOk ? 'match' : 'mismatch';
}

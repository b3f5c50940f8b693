/**
 * Typed public-key encodings: one type byte then the raw key, so X25519, Ed25519 and ML-KEM-768
 * encodings can never be confused with each other (DESIGN.md §4 "Encoding").
 */
import { fail } from './errors';
import type { ByteReader, ByteWriter } from './bytes';

/** Raw public-key lengths: X25519 (RFC 7748), Ed25519 (RFC 8032), ML-KEM-768 (FIPS 203). */
export const X25519_LEN = 32;
export const ED25519_PUBLIC_LEN = 32;
export const MLKEM_PUBLIC_LEN = 1184;

export const KeyType = {
  X25519: 0x05,
  Ed25519: 0x06,
  MlKem768: 0x0a
} as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

const LENGTHS: Record<KeyType, number> = {
  [KeyType.X25519]: X25519_LEN,
  [KeyType.Ed25519]: ED25519_PUBLIC_LEN,
  [KeyType.MlKem768]: MLKEM_PUBLIC_LEN
};

export function encodedKeyLength(type: KeyType): number {
  return 1 + LENGTHS[type];
}

/** `encodeKey` straight into a writer (no array of its own). */
export function writeKey(w: ByteWriter, type: KeyType, key: Uint8Array): ByteWriter {
  const n = LENGTHS[type];
  if (key.length !== n) fail('InvalidKey', `key of type ${type}: ${key.length} bytes, expected ${n}`);
  return w.u8(type).raw(key);
}

export function encodeKey(type: KeyType, key: Uint8Array): Uint8Array {
  const n = LENGTHS[type];
  if (key.length !== n) fail('InvalidKey', `key of type ${type}: ${key.length} bytes, expected ${n}`);
  const out = new Uint8Array(1 + n);
  out[0] = type;
  out.set(key, 1);
  return out;
}

/** Reads a typed key and insists on the expected type. */
export function readKey(r: ByteReader, type: KeyType): Uint8Array {
  const t = r.u8();
  if (t !== type) fail('InvalidKey', `key type ${t}, expected ${type}`);
  return r.fixed(LENGTHS[type]);
}

/**
 * HKDF-SHA256 (RFC 5869) built on libsodium's HMAC-SHA-256, synchronous.
 *
 * RFC 5869 §2.2 Extract: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen zero bytes.
 * RFC 5869 §2.3 Expand: T(i) = HMAC-Hash(PRK, T(i-1) | info | i), L <= 255 * HashLen.
 */
import { sodium } from './sodium';
import { fail } from '../codec/errors';
import { concatBytes } from '../codec/bytes';

const HASH_LEN = 32;

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = sodium();
  // libsodium's one-shot crypto_auth_hmacsha256 needs a 32-byte key (every HKDF here: a zero or
  // 32-byte salt, a 32-byte PRK) and is one call instead of three; the streaming API takes any
  // length (hashing keys longer than the block), as HMAC requires. Same HMAC either way.
  if (key.length === HASH_LEN) return s.crypto_auth_hmacsha256(data, key);
  const st = s.crypto_auth_hmacsha256_init(key);
  s.crypto_auth_hmacsha256_update(st, data);
  return s.crypto_auth_hmacsha256_final(st);
}

export function hkdfExtract(salt: Uint8Array | undefined, ikm: Uint8Array): Uint8Array {
  return hmacSha256(salt && salt.length > 0 ? salt : new Uint8Array(HASH_LEN), ikm);
}

export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  // RFC 5869 §2.3: PRK is "a pseudorandom key of at least HashLen octets".
  if (prk.length < HASH_LEN) fail('InvalidArgument', `prk: ${prk.length} bytes, need at least ${HASH_LEN}`);
  if (!Number.isInteger(length) || length < 1 || length > 255 * HASH_LEN) {
    fail('InvalidArgument', `length: ${length} outside 1..${255 * HASH_LEN}`);
  }
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++) {
    t = hmacSha256(prk, concatBytes(t, info, Uint8Array.of(i)));
    out.set(t.subarray(0, Math.min(HASH_LEN, length - o)), o);
    o += HASH_LEN;
  }
  return out;
}

export function hkdf(salt: Uint8Array | undefined, ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(hkdfExtract(salt, ikm), info, length);
}

/**
 * The ristretto255 prime-order group as RFC 9497 §2.1 describes it (and §4.1 instantiates it):
 * scalars mod L, 32-byte little-endian; elements 32-byte canonical ristretto255 encodings.
 *
 * Randomness comes from `deps` (never libsodium's own RNG) so registrations are reproducible in
 * tests. This module knows nothing of OPRFs, PINs or realms.
 */
import { sodium } from '../sodium';
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';

export const SCALAR_LEN = 32;
export const ELEMENT_LEN = 32;

function isZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

/** RFC 9497 §2.1 RandomScalar: a uniform non-zero scalar (64 random bytes reduced mod L). */
export function randomScalar(deps: Deps): Uint8Array {
  for (;;) {
    const s = sodium().crypto_core_ristretto255_scalar_reduce(deps.rng(64));
    if (!isZero(s)) return s;
  }
}

/** The scalar with small integer value `n` (share indices 1..255). */
export function scalarFromInt(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) fail('InvalidArgument', `scalar index ${n} outside 0..65535`);
  const s = new Uint8Array(SCALAR_LEN);
  s[0] = n & 0xff;
  s[1] = n >> 8;
  return s;
}

/** True for a canonical (< L) encoding: reducing it must leave it unchanged. */
export function isCanonicalScalar(s: Uint8Array): boolean {
  if (s.length !== SCALAR_LEN) return false;
  const wide = new Uint8Array(64);
  wide.set(s);
  const reduced = sodium().crypto_core_ristretto255_scalar_reduce(wide);
  return sodium().memcmp(reduced, s);
}

/** RFC 9497 DeserializeScalar, plus the non-zero rule every key and blind here must obey. */
export function deserializeNonZeroScalar(s: Uint8Array, what: string): Uint8Array {
  if (!isCanonicalScalar(s)) fail('InvalidKey', `${what}: not a canonical scalar (${s.length} bytes)`);
  if (isZero(s)) fail('InvalidKey', `${what}: zero scalar`);
  return s;
}

/**
 * RFC 9497 DeserializeElement: canonical ristretto255 encoding and not the identity (§2.1: "fails
 * if ... A is the identity element"). libsodium's validity check accepts the identity, so we add it.
 */
export function deserializeElement(e: Uint8Array, what: string): Uint8Array {
  if (e.length !== ELEMENT_LEN) fail('DecodeFailed', `${what}: ${e.length} bytes, need ${ELEMENT_LEN}`);
  if (isZero(e) || !sodium().crypto_core_ristretto255_is_valid_point(e)) {
    fail('InvalidKey', `${what}: not a valid non-identity ristretto255 element`);
  }
  return e;
}

/** scalar * element; an identity result (only possible with hostile input) is an error. */
export function scalarMult(scalar: Uint8Array, element: Uint8Array): Uint8Array {
  try {
    return sodium().crypto_scalarmult_ristretto255(scalar, element);
  } catch {
    fail('InvalidKey', 'ristretto255 scalar multiplication gave the identity');
  }
}

export function addElements(a: Uint8Array, b: Uint8Array): Uint8Array {
  return sodium().crypto_core_ristretto255_add(a, b);
}

export function scalarAdd(a: Uint8Array, b: Uint8Array): Uint8Array {
  return sodium().crypto_core_ristretto255_scalar_add(a, b);
}

export function scalarSub(a: Uint8Array, b: Uint8Array): Uint8Array {
  return sodium().crypto_core_ristretto255_scalar_sub(a, b);
}

export function scalarMul(a: Uint8Array, b: Uint8Array): Uint8Array {
  return sodium().crypto_core_ristretto255_scalar_mul(a, b);
}

export function scalarInvert(a: Uint8Array): Uint8Array {
  if (isZero(a)) fail('InvalidArgument', 'cannot invert the zero scalar');
  return sodium().crypto_core_ristretto255_scalar_invert(a);
}

/** 64 uniform bytes -> scalar mod L (RFC 9496 / RFC 9497 §4.1 HashToScalar's final step). */
export function scalarFromWide(bytes64: Uint8Array): Uint8Array {
  if (bytes64.length !== 64) fail('InvalidArgument', `wide scalar: ${bytes64.length} bytes, need 64`);
  return sodium().crypto_core_ristretto255_scalar_reduce(bytes64);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium().memcmp(a, b);
}

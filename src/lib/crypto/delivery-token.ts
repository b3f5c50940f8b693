/**
 * Delivery tokens: spam control for sealed sends without identifying the sender (SECURITY.md
 * P41), after Signal's unidentified access key, which is derived from the recipient's profile key
 * so only people the recipient gave that key to (P43: those it wrote to or accepted) can send it
 * sealed messages.
 *
 *   token     = HKDF-SHA256(salt = 0^32, ikm = profile key, info = L_token || username, 32)
 *   verifier  = SHA-256(L_verifier || token)
 *   access    = version u8 || flags u8 (bit 0: sealed from anyone) || verifier[32]      34 bytes
 *
 * The recipient sets `access` on the host over its authenticated connection, again whenever its
 * profile key rotates (blocking someone rotates it, so the blocked person's token stops working).
 * A sender presents `token` with each sealed send over its unauthenticated connection; the host
 * checks it with `mayDeliverSealed`. Unlike Signal, the host stores only a one-way verifier of
 * the token, never the token: a dump of the host's database lets nobody send sealed messages, and
 * neither the token nor the verifier reveals anything about the profile key or links to the
 * profile blob's address (different labels of one PRF).
 *
 * "Sealed from anyone" (flag bit 0): the host accepts a sealed send with any token or none. The
 * recipient opts in; by default a stranger, who has no token, sends its first message unsealed
 * (into message requests, P42). Knows nothing of the host's storage or HTTP.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, bytesEqual, concatBytes } from '../codec/bytes';
import { asUsername } from '../codec/username';
import { hkdf } from './hkdf';
import { Labels, labelBytes } from './labels';
import { sha256 } from './primitives';
import { PROFILE_KEY_LEN } from './profile';

export const DELIVERY_TOKEN_LEN = 32;
export const DELIVERY_VERIFIER_LEN = 32;
export const SEALED_ACCESS_VERSION = 1;
export const SEALED_ACCESS_LEN = 2 + DELIVERY_VERIFIER_LEN;
const FLAG_ANYONE = 0x01;

/** What the host stores per account to admit sealed sends. */
export interface SealedAccess {
  /** One-way verifier of the current delivery token. */
  readonly verifier: Uint8Array;
  /** Accept sealed sends with any token or none. */
  readonly anyone: boolean;
}

/** The token a sender presents to deliver sealed to `username`, whose profile key it holds. */
export function deliveryToken(profileKey: Uint8Array, username: string): Uint8Array {
  if (profileKey.length !== PROFILE_KEY_LEN) fail('InvalidArgument', `profile key: ${profileKey.length} bytes, expected ${PROFILE_KEY_LEN}`);
  const info = concatBytes(labelBytes(Labels.deliveryToken), new TextEncoder().encode(asUsername(username)));
  return hkdf(new Uint8Array(32), profileKey, info, DELIVERY_TOKEN_LEN);
}

export function deliveryVerifier(token: Uint8Array): Uint8Array {
  if (token.length !== DELIVERY_TOKEN_LEN) fail('InvalidArgument', `delivery token: ${token.length} bytes, expected ${DELIVERY_TOKEN_LEN}`);
  return sha256(concatBytes(labelBytes(Labels.deliveryVerifier), token));
}

/** What the owner of `profileKey` sets on the host (on registration and after every rotation). */
export function sealedAccessFor(profileKey: Uint8Array, username: string, anyone: boolean): SealedAccess {
  return { verifier: deliveryVerifier(deliveryToken(profileKey, username)), anyone };
}

/**
 * Host side: may a sealed envelope be delivered to the account with `access`, given the token the
 * sender presented (if any)? A token of the wrong length is simply refused. The comparison is of
 * two SHA-256 digests in constant time, so timing says nothing about the stored verifier.
 */
export function mayDeliverSealed(access: SealedAccess, presented: Uint8Array | undefined): boolean {
  if (access.anyone) return true;
  if (presented === undefined || presented.length !== DELIVERY_TOKEN_LEN) return false;
  return bytesEqual(deliveryVerifier(presented), access.verifier);
}

export function encodeSealedAccess(a: SealedAccess): Uint8Array {
  return new ByteWriter()
    .u8(SEALED_ACCESS_VERSION)
    .u8(a.anyone ? FLAG_ANYONE : 0)
    .fixed(a.verifier, DELIVERY_VERIFIER_LEN)
    .finish();
}

export function decodeSealedAccess(bytes: Uint8Array): SealedAccess {
  const r = new ByteReader(bytes, 'sealed access');
  const v = r.u8();
  if (v !== SEALED_ACCESS_VERSION) fail('UnsupportedVersion', `sealed access version ${v}`);
  const flags = r.u8();
  if ((flags & ~FLAG_ANYONE) !== 0) fail('DecodeFailed', `sealed access flags 0x${flags.toString(16)}`);
  const verifier = r.fixed(DELIVERY_VERIFIER_LEN);
  r.end();
  return { verifier, anyone: flags === FLAG_ANYONE };
}

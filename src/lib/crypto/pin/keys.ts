/**
 * Key schedule of PIN recovery: everything derived from the OPRF output, the encryption-key seed
 * and the reconstructed secret-key scalar (modelled on Juicebox, ePrint 2025/348 §4).
 *
 *   unlockKey           = HMAC-SHA-512/256(oprfOutput, L_unlockKey || version)
 *   unlockCommitment    = HMAC-SHA-512/256(unlockKey, L_unlockCommitment || version)
 *   unlockTag_i         = HMAC-SHA-512/256(unlockKey, L_unlockTag || version || realmId_i)
 *   shareMask_i         = reduce(HMAC-SHA-512(encryptionKeySeed, L_shareMask || version || oprfOutput || realmId_i))
 *   shareCommitment_i   = HMAC-SHA-512/256(HMAC-SHA-512/256(unlockKey, L_shareCommitment),
 *                                          version || realmId_i || maskedShare_i || encryptedSecret)
 *   secretKey           = HMAC-SHA-512/256(m, L_secretKey || version)    (m = secret-key scalar)
 *
 * Every value a realm stores or sees is keyed by the OPRF output (which needs t realms' OPRF
 * key shares) and, for the mask, also by the Argon2 output: none of it can be recomputed from a
 * PIN guess with one realm's data. This module knows nothing of realms' state or of messages.
 */
import { sodium } from '../sodium';
import { Labels, labelBytes, type Label } from '../labels';
import { ByteWriter } from '../../codec/bytes';
import { scalarFromWide } from './group';

export const VERSION_LEN = 16;
export const KEY_LEN = 32;

/** HMAC-SHA-512/256 (libsodium's streaming API accepts keys of any length, as HMAC requires). */
function hmac512256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = sodium();
  const st = s.crypto_auth_hmacsha512256_init(key);
  s.crypto_auth_hmacsha512256_update(st, data);
  return s.crypto_auth_hmacsha512256_final(st);
}

function hmac512(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = sodium();
  const st = s.crypto_auth_hmacsha512_init(key);
  s.crypto_auth_hmacsha512_update(st, data);
  return s.crypto_auth_hmacsha512_final(st);
}

/** label || fields, each length-prefixed so no two inputs can collide by shifting bytes. */
function encode(label: Label, ...fields: Uint8Array[]): Uint8Array {
  const w = new ByteWriter().bytes16(labelBytes(label));
  for (const f of fields) w.bytes16(f);
  return w.finish();
}

export function unlockKey(oprfOutput: Uint8Array, version: Uint8Array): Uint8Array {
  return hmac512256(oprfOutput, encode(Labels.pinUnlockKey, version));
}

export function unlockCommitment(key: Uint8Array, version: Uint8Array): Uint8Array {
  return hmac512256(key, encode(Labels.pinUnlockCommitment, version));
}

export function unlockTag(key: Uint8Array, version: Uint8Array, realmId: Uint8Array): Uint8Array {
  return hmac512256(key, encode(Labels.pinUnlockTag, version, realmId));
}

/** Additive mask in Z/L: without the Argon2 output and the OPRF output it is uniformly random. */
export function shareMask(encryptionKeySeed: Uint8Array, version: Uint8Array, oprfOutput: Uint8Array, realmId: Uint8Array): Uint8Array {
  return scalarFromWide(hmac512(encryptionKeySeed, encode(Labels.pinShareMask, version, oprfOutput, realmId)));
}

export function shareCommitment(
  key: Uint8Array,
  version: Uint8Array,
  realmId: Uint8Array,
  maskedShare: Uint8Array,
  encryptedSecret: Uint8Array
): Uint8Array {
  const macKey = hmac512256(key, encode(Labels.pinShareCommitment));
  return hmac512256(macKey, encode(Labels.pinShareCommitment, version, realmId, maskedShare, encryptedSecret));
}

export function secretKey(m: Uint8Array, version: Uint8Array): Uint8Array {
  return hmac512256(m, encode(Labels.pinSecretKey, version));
}

export function secretAd(version: Uint8Array): Uint8Array {
  return encode(Labels.pinSecretBox, version);
}

/**
 * The signed OPRF public key share of a realm (Juicebox, ePrint 2025/348: "oprf signed public
 * key"; SECURITY.md P38).
 *
 * At registration the client makes a one-time Ed25519 key, signs for every realm i
 *   msg_i = L_keySig || version || realmId_i || pk_i || unlockCommitment     (pk_i = k_i * G)
 * and throws the private half away. At recovery a realm returns pk_i, the registration key and
 * the signature with its evaluation and a DLEQ proof that the evaluation used k_i. So every byte of
 * an evaluation answer is checked before the PIN is: one that fails is tampering, and a verified
 * set of t answers whose unlock commitment does not match means the PIN really is wrong.
 *
 * What this cannot catch: a realm operator that fabricates a whole registration (own key, own
 * signature) for a user. With t-of-n realms its answers stand out by their registration key and
 * are outvoted; with a single realm nothing can tell it apart, which is one more reason a single
 * operator only gets passphrases or recovery keys (secret-policy.ts). Pure; no state, no I/O.
 */
import { ByteWriter } from '../../codec/bytes';
import { ed25519Sign, ed25519Verify } from '../primitives';
import { Labels, labelBytes } from '../labels';

export function realmKeyMessage(version: Uint8Array, realmId: Uint8Array, publicKey: Uint8Array, unlockCommitment: Uint8Array): Uint8Array {
  return new ByteWriter()
    .bytes16(labelBytes(Labels.pinRealmKeySig))
    .bytes16(version)
    .bytes16(realmId)
    .bytes16(publicKey)
    .bytes16(unlockCommitment)
    .finish();
}

export function signRealmKey(privateKey: Uint8Array, version: Uint8Array, realmId: Uint8Array, publicKey: Uint8Array, unlockCommitment: Uint8Array): Uint8Array {
  return ed25519Sign(privateKey, realmKeyMessage(version, realmId, publicKey, unlockCommitment));
}

export function verifyRealmKey(
  registrationKey: Uint8Array,
  signature: Uint8Array,
  version: Uint8Array,
  realmId: Uint8Array,
  publicKey: Uint8Array,
  unlockCommitment: Uint8Array
): boolean {
  return ed25519Verify(registrationKey, realmKeyMessage(version, realmId, publicKey, unlockCommitment), signature);
}

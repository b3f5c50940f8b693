/**
 * PQXDH key agreement (Signal, "The PQXDH Key Agreement Protocol", rev. 3, §2.2 and §3.3–3.4;
 * DESIGN.md §4):
 *
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  [DH4 = DH(EK_A, OPK_B)]
 *   (CT, SS) = ML-KEM-768.Encaps(PQPK_B)
 *   SK = HKDF-SHA256(salt = 0^32, ikm = 0xFF*32 || DH1 || DH2 || DH3 [|| DH4] || SS, info, 32)
 *   AD = Encode(IK_A) || Encode(IK_B), Encode = u8 len || username || IdentityPublic
 *
 * Every signature is verified before the first DH; a low-order key aborts inside `x25519`.
 * Returns the shared secret, the AD and the header fields; knows nothing of the ratchet,
 * envelopes or storage. Inputs are never mutated.
 */
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import { hkdf } from './hkdf';
import { identityPublic, encodeIdentityPublic, verifyIdentity, type IdentityKeyPair, type IdentityPublic } from './identity';
import { Labels, labelBytes } from './labels';
import type { KemPreKey, OneTimePreKey, SignedPreKey } from './prekeys';
import { mlkemDecapsulate, mlkemEncapsulate, wipe, x25519, x25519KeyPair, MLKEM_CIPHERTEXT_LEN, X25519_LEN, type KeyPair } from './primitives';
import { ByteWriter, concatBytes } from '../codec/bytes';
import { verifyBundle, type PreKeyBundle } from './bundle';
import { writeUsername } from '../codec/username';

export const PQXDH_SECRET_LEN = 32;

/** What Alice's first message must carry so Bob can repeat the agreement (PQXDH §3.3). */
export interface PqxdhHeader {
  signedPreKeyId: number;
  oneTimePreKeyId?: number;
  kemPreKeyId: number;
  /** EK_A, Alice's ephemeral X25519 public key. */
  baseKey: Uint8Array;
  kemCiphertext: Uint8Array;
}

/** Bob's private prekeys, looked up by id (the store decides what still exists). */
export interface PreKeyLookup {
  signedPreKey(id: number): SignedPreKey | undefined;
  oneTimePreKey(id: number): OneTimePreKey | undefined;
  kemPreKey(id: number): KemPreKey | undefined;
}

/** Prekeys the caller must delete (one-time) after committing the session (P9). */
export interface ConsumedPreKeys {
  oneTimePreKeyId?: number;
  kemPreKeyId: number;
  /** A last-resort KEM key is kept; a one-time one is deleted. */
  kemLastResort: boolean;
}

/** Encode(IK) for the AD: the username binds the key to the account (P4). */
export function encodeParty(username: string, identity: IdentityPublic): Uint8Array {
  return writeUsername(new ByteWriter(), username).raw(encodeIdentityPublic(identity)).finish();
}

/** AD = Encode(IK_A) || Encode(IK_B), A being the initiator. */
export function associatedData(
  initiator: { username: string; identity: IdentityPublic },
  responder: { username: string; identity: IdentityPublic }
): Uint8Array {
  return concatBytes(encodeParty(initiator.username, initiator.identity), encodeParty(responder.username, responder.identity));
}

/** PQXDH §2.2 KDF: the DH outputs in order, then the KEM secret last. */
export function pqxdhKdf(dhOutputs: Uint8Array[], kemSecret: Uint8Array): Uint8Array {
  if (dhOutputs.length < 3 || dhOutputs.length > 4) fail('InvalidArgument', `${dhOutputs.length} DH outputs, need 3 or 4`);
  const ikm = concatBytes(new Uint8Array(32).fill(0xff), ...dhOutputs, kemSecret);
  const sk = hkdf(new Uint8Array(32), ikm, labelBytes(Labels.pqxdh), PQXDH_SECRET_LEN);
  wipe(ikm);
  return sk;
}

export interface InitiateInput {
  ourIdentity: IdentityKeyPair;
  ourUsername: string;
  theirUsername: string;
  bundle: PreKeyBundle;
}

export interface InitiateResult {
  secret: Uint8Array;
  ad: Uint8Array;
  initialMessageHeader: PqxdhHeader;
}

/** Alice's side (PQXDH §3.3). Throws before any DH if a signature or the KEM prekey is missing. */
export function initiate(input: InitiateInput, deps: Deps): InitiateResult {
  const { ourIdentity, ourUsername, theirUsername, bundle } = input;
  verifyBundle(bundle, theirUsername);
  const ourPublic = identityPublic(ourIdentity);
  const ad = associatedData({ username: ourUsername, identity: ourPublic }, { username: theirUsername, identity: bundle.identity });

  const ek = x25519KeyPair(deps);
  const dhs: Uint8Array[] = [];
  try {
    dhs.push(x25519(ourIdentity.dh.privateKey, bundle.signedPreKey.publicKey));
    dhs.push(x25519(ek.privateKey, bundle.identity.dhKey));
    dhs.push(x25519(ek.privateKey, bundle.signedPreKey.publicKey));
    if (bundle.oneTimePreKey) dhs.push(x25519(ek.privateKey, bundle.oneTimePreKey.publicKey));
    const { ciphertext, sharedSecret } = mlkemEncapsulate(bundle.kemPreKey.publicKey, deps);
    const secret = pqxdhKdf(dhs, sharedSecret);
    wipe(sharedSecret);
    const initialMessageHeader: PqxdhHeader = {
      signedPreKeyId: bundle.signedPreKey.id,
      kemPreKeyId: bundle.kemPreKey.id,
      baseKey: ek.publicKey,
      kemCiphertext: ciphertext
    };
    if (bundle.oneTimePreKey) initialMessageHeader.oneTimePreKeyId = bundle.oneTimePreKey.id;
    return { secret, ad, initialMessageHeader };
  } finally {
    // EK_A is deleted after computing SK (PQXDH §3.3).
    wipe(ek.privateKey, ...dhs);
  }
}

export interface AcceptInput {
  ourIdentity: IdentityKeyPair;
  ourUsername: string;
  theirUsername: string;
  theirIdentity: IdentityPublic;
  header: PqxdhHeader;
  prekeys: PreKeyLookup;
}

export interface AcceptResult {
  secret: Uint8Array;
  ad: Uint8Array;
  consumed: ConsumedPreKeys;
  /** SPK_B's key pair (a copy), Bob's first ratchet key pair: saves the caller a second lookup. */
  ourSignedPreKey: KeyPair;
}

/**
 * Bob's side (PQXDH §3.4). A missing prekey (already used one-time key, unknown id) fails with
 * MissingPrekey, so a replayed initial message whose one-time prekey is gone is refused (P9).
 * `deps` is unused (accepting needs no randomness) but kept for a uniform signature.
 */
export function accept(input: AcceptInput, _deps?: Deps): AcceptResult {
  const { ourIdentity, ourUsername, theirUsername, theirIdentity, header, prekeys } = input;
  verifyIdentity(theirIdentity);
  if (header.baseKey.length !== X25519_LEN) fail('InvalidKey', `base key: ${header.baseKey.length} bytes`);
  if (header.kemCiphertext.length !== MLKEM_CIPHERTEXT_LEN) {
    fail('DecodeFailed', `KEM ciphertext: ${header.kemCiphertext.length} bytes`);
  }
  const spk = prekeys.signedPreKey(header.signedPreKeyId);
  if (!spk) fail('MissingPrekey', `signed prekey ${header.signedPreKeyId} not found`);
  let opk: OneTimePreKey | undefined;
  if (header.oneTimePreKeyId !== undefined) {
    opk = prekeys.oneTimePreKey(header.oneTimePreKeyId);
    if (!opk) fail('MissingPrekey', `one-time prekey ${header.oneTimePreKeyId} not found`);
  }
  const kem = prekeys.kemPreKey(header.kemPreKeyId);
  if (!kem) fail('MissingPrekey', `KEM prekey ${header.kemPreKeyId} not found`);

  const ad = associatedData({ username: theirUsername, identity: theirIdentity }, { username: ourUsername, identity: identityPublic(ourIdentity) });
  const dhs: Uint8Array[] = [];
  try {
    dhs.push(x25519(spk.keyPair.privateKey, theirIdentity.dhKey));
    dhs.push(x25519(ourIdentity.dh.privateKey, header.baseKey));
    dhs.push(x25519(spk.keyPair.privateKey, header.baseKey));
    if (opk) dhs.push(x25519(opk.keyPair.privateKey, header.baseKey));
    // ML-KEM decapsulation never fails on a well-sized ciphertext (implicit rejection): a
    // tampered one yields a different SS, so the first message's AEAD fails instead (P8).
    const ss = mlkemDecapsulate(kem.keyPair.privateKey, header.kemCiphertext);
    const secret = pqxdhKdf(dhs, ss);
    wipe(ss);
    const consumed: ConsumedPreKeys = { kemPreKeyId: kem.id, kemLastResort: kem.lastResort };
    if (opk) consumed.oneTimePreKeyId = opk.id;
    const ourSignedPreKey = { publicKey: spk.keyPair.publicKey.slice(), privateKey: spk.keyPair.privateKey.slice() };
    return { secret, ad, consumed, ourSignedPreKey };
  } finally {
    wipe(...dhs);
  }
}

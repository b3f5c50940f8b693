/**
 * What one realm stores for one user after registration, and its strict byte encoding.
 *
 * A realm stores (Juicebox, ePrint 2025/348 §4.2, adapted):
 *  - version               16 random bytes naming this registration; all realms of it share it.
 *  - oprfKeyShare          k_i, its Shamir share of the OPRF key k. Alone it evaluates nothing
 *                          useful: F(k, x) needs t shares (Lagrange in the exponent).
 *  - unlockCommitment      returned after each evaluation so the client can recognise a correct
 *                          combination of t evaluations (and so a garbage one) before spending a tag.
 *  - unlockTag             MAC from the unlock key; compared in constant time with the client's.
 *  - encryptedSecretShare  m_i + mask_i (mod L): share of the secret-key scalar m under a mask
 *                          from the Argon2 output and the OPRF output. Deliberately unauthenticated:
 *                          an AEAD under a PIN-derived key would be an offline PIN verifier.
 *  - encryptedSecret       XChaCha20-Poly1305 of the 32-byte master secret under a key from m.
 *  - commitment            MAC over this realm's share response under a key from the unlock key,
 *                          so the client detects a corrupted share (P25) and uses another realm's.
 *  - guessLimit            wrong guesses before the realm deletes the record (P23).
 *  - registrationKey       Ed25519 public key of a one-time key the registering client made and
 *                          threw away after signing; the same for every realm of a registration.
 *  - keySignature          its signature over (version, realm id, k_i * G, unlockCommitment): with
 *                          the evaluation's DLEQ proof (dleq.ts) every byte a realm answers to an
 *                          evaluation is checkable, so a tampered answer is named, never read as a
 *                          wrong PIN (P38). Nobody can re-sign: the private half no longer exists.
 * No PIN, no PIN hash, no Argon2 output: every stored value is keyed by the OPRF output (needs t
 * realms) or is uniformly random on its own (P24). Sizes are constant, so nothing leaks by size (P26).
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter } from '../../codec/bytes';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN } from '../primitives';
import { SCALAR_LEN, deserializeNonZeroScalar, isCanonicalScalar } from './group';
import { KEY_LEN, VERSION_LEN } from './keys';

/** 2: adds the registration key and signature (format 1 records cannot prove their answers). */
export const RECORD_FORMAT = 2;
export const REGISTRATION_KEY_LEN = 32;
export const KEY_SIGNATURE_LEN = 64;
export const MASTER_SECRET_LEN = 32;
export const ENCRYPTED_SECRET_LEN = AEAD_NONCE_LEN + MASTER_SECRET_LEN + AEAD_TAG_LEN;
/** SECURITY.md P23: ten wrong guesses destroy the share. */
export const DEFAULT_GUESS_LIMIT = 10;
export const MAX_GUESS_LIMIT = 100;

export interface RealmRecord {
  version: Uint8Array;
  oprfKeyShare: Uint8Array;
  unlockCommitment: Uint8Array;
  unlockTag: Uint8Array;
  encryptedSecretShare: Uint8Array;
  encryptedSecret: Uint8Array;
  commitment: Uint8Array;
  guessLimit: number;
  registrationKey: Uint8Array;
  keySignature: Uint8Array;
}

export function checkGuessLimit(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_GUESS_LIMIT) fail('InvalidArgument', `guess limit ${n} outside 1..${MAX_GUESS_LIMIT}`);
  return n;
}

export function encodeRealmRecord(r: RealmRecord): Uint8Array {
  return new ByteWriter()
    .u8(RECORD_FORMAT)
    .fixed(r.version, VERSION_LEN)
    .fixed(r.oprfKeyShare, SCALAR_LEN)
    .fixed(r.unlockCommitment, KEY_LEN)
    .fixed(r.unlockTag, KEY_LEN)
    .fixed(r.encryptedSecretShare, SCALAR_LEN)
    .fixed(r.encryptedSecret, ENCRYPTED_SECRET_LEN)
    .fixed(r.commitment, KEY_LEN)
    .u8(checkGuessLimit(r.guessLimit))
    .fixed(r.registrationKey, REGISTRATION_KEY_LEN)
    .fixed(r.keySignature, KEY_SIGNATURE_LEN)
    .finish();
}

export function decodeRealmRecord(bytes: Uint8Array): RealmRecord {
  const r = new ByteReader(bytes, 'realm record');
  const format = r.u8();
  if (format !== RECORD_FORMAT) fail('UnsupportedVersion', `realm record format ${format}, expected ${RECORD_FORMAT}`);
  const record: RealmRecord = {
    version: r.fixed(VERSION_LEN),
    oprfKeyShare: r.fixed(SCALAR_LEN),
    unlockCommitment: r.fixed(KEY_LEN),
    unlockTag: r.fixed(KEY_LEN),
    encryptedSecretShare: r.fixed(SCALAR_LEN),
    encryptedSecret: r.fixed(ENCRYPTED_SECRET_LEN),
    commitment: r.fixed(KEY_LEN),
    guessLimit: r.u8(),
    registrationKey: r.fixed(REGISTRATION_KEY_LEN),
    keySignature: r.fixed(KEY_SIGNATURE_LEN)
  };
  r.end();
  try {
    deserializeNonZeroScalar(record.oprfKeyShare, 'OPRF key share');
    checkGuessLimit(record.guessLimit);
  } catch {
    fail('DecodeFailed', 'realm record: invalid OPRF key share or guess limit');
  }
  if (!isCanonicalScalar(record.encryptedSecretShare)) fail('DecodeFailed', 'realm record: non-canonical share');
  return record;
}

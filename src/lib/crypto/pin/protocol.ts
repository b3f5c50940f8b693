/**
 * PIN-protected secure value recovery, client side: register / recover across t-of-n realms
 * (DESIGN.md §7; Juicebox, ePrint 2025/348 §4; Signal SVR). Pure and message-in / message-out:
 * the caller moves the messages; realm-side functions live in `realm.ts` (re-exported here).
 *
 * Register: Argon2id(PIN) -> accessKey || encryptionKeySeed. A random OPRF key k and a random
 * secret-key scalar m are Shamir-shared; realm i gets k_i, the unlock commitment and its unlock tag
 * (from F(k, accessKey)), m_i masked by a PIN- and OPRF-derived mask, the master secret encrypted
 * under a key from m, a commitment to its share response, and a one-time registration key's
 * signature over k_i * G and the commitment (realm-key.ts). See `record.ts` for each field.
 *
 * Recover: (1) `startRecovery` stretches the PIN and blinds accessKey once per realm; (2) each realm
 * evaluates with k_i (VOPRF mode, with a DLEQ proof) and returns the signed public key share and
 * unlock commitment (a guess is charged); (3) `continueRecovery` checks every answer's signature
 * and proof — a realm answering garbage is named as tampering, never read as a wrong PIN (P38) —
 * unblinds, combines t verified evaluations by Lagrange in the exponent, finalises the OPRF and
 * checks the unlock commitment, then derives each realm's unlock tag; (4) realms compare the tag
 * and release the share; (5) `finishRecovery` verifies each share's commitment, drops corrupted
 * ones (P25), reconstructs m from t good shares and decrypts the secret.
 *
 * Why no single realm can test PINs offline (P24): its record holds no PIN hash. Checking a guess
 * against its unlock tag or commitment needs F(k, accessKey), i.e. t shares of k; its masked
 * share is uniformly random without the Argon2 output *and* the OPRF output. Even with every
 * realm's record, each guess still costs one full Argon2id (the OPRF input is the Argon2 output).
 * Guess budget: a guess is charged on t realms, so an attacker can make at most floor(n * limit / t)
 * guesses in total by rotating subsets (15 for 2-of-3 with limit 10).
 *
 * Deletion needs no PIN: the realm deletes on an authenticated request (`realmDelete`).
 */
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { aeadEncrypt, AEAD_NONCE_LEN, ed25519KeyPair, wipe } from '../primitives';
import { evaluate, publicKeyOf } from './oprf';
import { signRealmKey } from './realm-key';
import { randomScalar, scalarAdd } from './group';
import { splitSecret } from './shamir';
import { checkPinStrength } from './normalize';
import { stretchPin, type PinStretcher } from './stretch';
import { checkRealms, type RealmConfig } from './realm-set';
import * as K from './keys';
import { DEFAULT_GUESS_LIMIT, MASTER_SECRET_LEN, checkGuessLimit, type RealmRecord } from './record';

export { realmAttempt, realmCheckUnlockTag, realmDelete, realmEvaluate, realmHealth, realmRegister } from './realm';
export type { RealmState, RegisteredState, RealmHealth, AttemptOutcome, EvaluationResponse, ShareResponse } from './realm';
export { startRecovery, continueRecovery, finishRecovery } from './recover';
export type { RecoveryState, UnlockedState, RecoveryInput } from './recover';
export type { RealmConfig } from './realm-set';

export interface RegistrationInput {
  username: string;
  pin: string;
  /** The 32-byte master secret (fixed size, so records leak nothing by size: P26). */
  secret: Uint8Array;
  realms: readonly RealmConfig[];
  threshold: number;
  guessLimit?: number;
}

export function prepareRegistration(
  input: RegistrationInput,
  deps: Deps,
  stretch: PinStretcher = stretchPin
): { realmSetId: Uint8Array; registrations: { realmId: Uint8Array; record: RealmRecord }[] } {
  const set = checkRealms(input.realms, input.threshold);
  const guessLimit = checkGuessLimit(input.guessLimit ?? DEFAULT_GUESS_LIMIT);
  if (input.secret.length !== MASTER_SECRET_LEN) fail('InvalidArgument', `secret of ${input.secret.length} bytes, need ${MASTER_SECRET_LEN}`);
  const strength = checkPinStrength(input.pin);
  if (!strength.ok) fail('InvalidArgument', `weak PIN: ${strength.reason}`);

  const { accessKey, encryptionKeySeed } = stretch(input.pin, input.username, set.setId);
  const version = deps.rng(K.VERSION_LEN);
  const k = randomScalar(deps);
  const kShares = splitSecret(k, set.threshold, set.ids.length, deps);
  const oprfOutput = evaluate(k, accessKey);
  const unlockKey = K.unlockKey(oprfOutput, version);
  const unlockCommitment = K.unlockCommitment(unlockKey, version);
  const m = randomScalar(deps);
  const mShares = splitSecret(m, set.threshold, set.ids.length, deps);
  const secretKey = K.secretKey(m, version);
  const nonce = deps.rng(AEAD_NONCE_LEN);
  const encryptedSecret = new Uint8Array([...nonce, ...aeadEncrypt(secretKey, nonce, input.secret, K.secretAd(version))]);
  // One-time signing key: signs every realm's public key share, then is wiped (nobody can re-sign).
  const registration = ed25519KeyPair(deps);

  const registrations = set.ids.map((realmId, i) => {
    const mask = K.shareMask(encryptionKeySeed, version, oprfOutput, realmId);
    const encryptedSecretShare = scalarAdd(mShares[i]!.y, mask);
    const record: RealmRecord = {
      version: version.slice(),
      oprfKeyShare: kShares[i]!.y.slice(),
      unlockCommitment: unlockCommitment.slice(),
      unlockTag: K.unlockTag(unlockKey, version, realmId),
      encryptedSecretShare,
      encryptedSecret: encryptedSecret.slice(),
      commitment: K.shareCommitment(unlockKey, version, realmId, encryptedSecretShare, encryptedSecret),
      guessLimit,
      registrationKey: registration.publicKey.slice(),
      keySignature: signRealmKey(registration.privateKey, version, realmId, publicKeyOf(kShares[i]!.y), unlockCommitment)
    };
    wipe(mask);
    return { realmId, record };
  });
  wipe(accessKey, encryptionKeySeed, k, oprfOutput, unlockKey, m, secretKey, registration.privateKey, ...kShares.map((s) => s.y), ...mShares.map((s) => s.y));
  return { realmSetId: set.setId, registrations };
}

/**
 * PIN recovery, client side (steps 1, 3 and 5 of the flow described in `protocol.ts`).
 *
 * The client trusts nothing a realm says that it cannot check (SECURITY.md P25, P38). Step 3
 * checks every evaluation answer BEFORE testing the PIN: the registration's signature over the
 * realm's public key share, version and unlock commitment (realm-key.ts), and the DLEQ proof that
 * the evaluation used that share (dleq.ts). An answer that fails is tampering and its realm is
 * named. Verified answers are grouped by registration (key, version, commitment); t verified
 * answers of one registration whose combined OPRF output misses the commitment mean the PIN really
 * is wrong. Fewer than t verified answers mean the PIN could not be tested: that is reported as
 * tampering, never as a wrong PIN. A share is accepted only with a valid commitment under the
 * unlock key. Share indices come from the pinned realm order, never from a realm. Inputs are
 * never mutated.
 */
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { aeadDecrypt, AEAD_NONCE_LEN, wipe } from '../primitives';
import { toHex } from '../../codec/bytes';
import { blind, finalizeUnblinded, unblind } from './oprf';
import { generator, verifyProof } from './dleq';
import { constantTimeEqual, isCanonicalScalar, scalarSub } from './group';
import { combineInExponent, reconstructSecret, type Share } from './shamir';
import { stretchPin, type PinStretcher } from './stretch';
import * as K from './keys';
import { ENCRYPTED_SECRET_LEN } from './record';
import { verifyRealmKey } from './realm-key';
import { checkRealms, indexOfRealm, type RealmConfig, type RealmSet } from './realm-set';
import type { EvaluationResponse, ShareResponse } from './realm';

export interface RecoveryInput {
  username: string;
  pin: string;
  realms: readonly RealmConfig[];
  threshold: number;
}

/** Client secrets between steps; lives only in the vault worker's memory. */
export interface RecoveryState {
  set: RealmSet;
  accessKey: Uint8Array;
  encryptionKeySeed: Uint8Array;
  blinds: Uint8Array[];
  /** What was sent to each realm: the proofs are checked against these, not against echoes. */
  blindedElements: Uint8Array[];
}

export interface UnlockedState {
  set: RealmSet;
  version: Uint8Array;
  unlockKey: Uint8Array;
  oprfOutput: Uint8Array;
  encryptionKeySeed: Uint8Array;
}

type Tag = { realmId: Uint8Array; unlockTag: Uint8Array };

/** Step 1: stretch the PIN (one Argon2id) and blind the access key afresh for every realm. */
export function startRecovery(
  input: RecoveryInput,
  deps: Deps,
  stretch: PinStretcher = stretchPin
): { state: RecoveryState; requests: { realmId: Uint8Array; blindedElement: Uint8Array }[] } {
  const set = checkRealms(input.realms, input.threshold);
  const { accessKey, encryptionKeySeed } = stretch(input.pin, input.username, set.setId);
  // One blind per realm, so realms cannot link their requests by the blinded element.
  const blinded = set.ids.map(() => blind(accessKey, deps));
  return {
    state: { set, accessKey, encryptionKeySeed, blinds: blinded.map((b) => b.blind), blindedElements: blinded.map((b) => b.blindedElement) },
    requests: set.ids.map((realmId, i) => ({ realmId: realmId.slice(), blindedElement: blinded[i]!.blindedElement.slice() }))
  };
}

interface Verified {
  i: number;
  unblinded: Uint8Array;
  response: EvaluationResponse;
}

/** Checks one realm's evaluation answer; undefined if any part of it fails (tampering). */
function verifyEvaluation(state: RecoveryState, i: number, r: EvaluationResponse): Verified | undefined {
  try {
    if (r.version.length !== K.VERSION_LEN || r.unlockCommitment.length !== K.KEY_LEN) return undefined;
    if (!verifyRealmKey(r.registrationKey, r.keySignature, r.version, state.set.ids[i]!, r.publicKey, r.unlockCommitment)) return undefined;
    if (!verifyProof(generator(), r.publicKey, [state.blindedElements[i]!], [r.evaluatedElement], r.proof)) return undefined;
    return { i, unblinded: unblind(state.blinds[i]!, r.evaluatedElement), response: r };
  } catch {
    return undefined;
  }
}

/** The unlock key of t verified answers of one registration, if they reproduce its commitment. */
function tryUnlock(accessKey: Uint8Array, group: readonly Verified[]): { unlockKey: Uint8Array; oprfOutput: Uint8Array; matches: boolean } {
  const { version, unlockCommitment } = group[0]!.response;
  const combined = combineInExponent(group.map((c) => ({ x: c.i + 1, element: c.unblinded })));
  const oprfOutput = finalizeUnblinded(accessKey, combined);
  const unlockKey = K.unlockKey(oprfOutput, version);
  return { unlockKey, oprfOutput, matches: constantTimeEqual(K.unlockCommitment(unlockKey, version), unlockCommitment) };
}

const registrationOf = (r: EvaluationResponse): string => `${toHex(r.registrationKey)}:${toHex(r.version)}:${toHex(r.unlockCommitment)}`;

/**
 * Step 3: check and combine realm evaluations.
 * - 'unlocked': t verified answers match; tags for every responding realm (the correct tag resets
 *   each honest realm's counter, even one whose answer was tampered with on the way).
 * - 'wrongPin': t verified answers of one registration do not match: the PIN is wrong. Tags still
 *   go out, so the charged guesses settle at once and the realms say how many remain.
 * - 'tampered': fewer than t answers of one registration verify, so the PIN could not be tested.
 *   `realms` names those whose answers failed or disagree with the rest. No tags: none can be right.
 */
export function continueRecovery(
  state: RecoveryState,
  responses: readonly ({ realmId: Uint8Array } & EvaluationResponse)[]
):
  | { outcome: 'unlocked'; state: UnlockedState; tags: Tag[]; misbehavingRealms: Uint8Array[] }
  | { outcome: 'wrongPin'; tags: Tag[] }
  | { outcome: 'tampered'; realms: Uint8Array[] } {
  const { set } = state;
  const seen = new Set<number>();
  const groups = new Map<string, Verified[]>();
  const bad = new Set<number>();
  for (const r of responses) {
    const i = indexOfRealm(set, r.realmId);
    if (seen.has(i)) fail('InvalidArgument', `two evaluation responses from realm ${i}`);
    seen.add(i);
    const v = verifyEvaluation(state, i, r);
    if (!v) bad.add(i);
    else groups.set(registrationOf(r), [...(groups.get(registrationOf(r)) ?? []), v]);
  }
  // Too few answers at all is the caller's shortfall (unreachable realms), not tampering.
  if (seen.size < set.threshold) fail('InvalidMessage', `${seen.size} realm evaluations, need ${set.threshold}`);
  const ids = (xs: Iterable<number>): Uint8Array[] => [...xs].sort((a, b) => a - b).map((i) => set.ids[i]!.slice());
  const tagsFor = (unlockKey: Uint8Array, version: Uint8Array): Tag[] =>
    [...seen].sort((a, b) => a - b).map((i) => ({ realmId: set.ids[i]!.slice(), unlockTag: K.unlockTag(unlockKey, version, set.ids[i]!) }));

  const usable = [...groups.values()].filter((g) => g.length >= set.threshold).sort((a, b) => b.length - a.length);
  if (usable.length === 0) {
    // Answers that verify but belong to different registrations: the smaller groups are the odd
    // ones out (on a tie nobody can say which is right, so all are named).
    const bySize = [...groups.values()].sort((a, b) => b.length - a.length);
    const tie = bySize.length > 1 && bySize[0]!.length === bySize[1]!.length;
    const outliers = (tie ? bySize : bySize.slice(1)).flatMap((g) => g.map((v) => v.i));
    return { outcome: 'tampered', realms: ids(new Set([...bad, ...outliers])) };
  }
  let wrong: { unlockKey: Uint8Array; oprfOutput: Uint8Array; version: Uint8Array } | undefined;
  for (const group of usable) {
    const attempt = tryUnlock(state.accessKey, group.slice(0, set.threshold));
    const version = group[0]!.response.version.slice();
    if (!attempt.matches) {
      if (wrong) wipe(attempt.unlockKey, attempt.oprfOutput);
      else wrong = { ...attempt, version };
      continue;
    }
    if (wrong) wipe(wrong.unlockKey, wrong.oprfOutput);
    const outside = [...seen].filter((i) => !group.some((v) => v.i === i));
    return {
      outcome: 'unlocked',
      state: { set, version, unlockKey: attempt.unlockKey, oprfOutput: attempt.oprfOutput, encryptionKeySeed: state.encryptionKeySeed.slice() },
      tags: tagsFor(attempt.unlockKey, version),
      misbehavingRealms: ids(new Set([...bad, ...outside]))
    };
  }
  const tags = tagsFor(wrong!.unlockKey, wrong!.version);
  wipe(wrong!.unlockKey, wrong!.oprfOutput);
  return { outcome: 'wrongPin', tags };
}

/** Step 5: verify each released share, reconstruct the secret-key scalar, decrypt the secret. */
export function finishRecovery(
  state: UnlockedState,
  shares: readonly ({ realmId: Uint8Array } & ShareResponse)[]
): { secret: Uint8Array; corruptRealms: Uint8Array[] } {
  const { set, version, unlockKey, oprfOutput, encryptionKeySeed } = state;
  const seen = new Set<number>();
  const verified: (Share & { box: Uint8Array })[] = [];
  const corrupt: Uint8Array[] = [];
  for (const s of shares) {
    const i = indexOfRealm(set, s.realmId);
    if (seen.has(i)) fail('InvalidArgument', `two share responses from realm ${i}`);
    seen.add(i);
    const id = set.ids[i]!;
    const wellFormed =
      s.encryptedSecret.length === ENCRYPTED_SECRET_LEN && s.commitment.length === K.KEY_LEN && isCanonicalScalar(s.encryptedSecretShare);
    if (!wellFormed || !constantTimeEqual(K.shareCommitment(unlockKey, version, id, s.encryptedSecretShare, s.encryptedSecret), s.commitment)) {
      corrupt.push(id.slice());
      continue;
    }
    const mask = K.shareMask(encryptionKeySeed, version, oprfOutput, id);
    verified.push({ x: i + 1, y: scalarSub(s.encryptedSecretShare, mask), box: s.encryptedSecret });
    wipe(mask);
  }
  if (verified.length < set.threshold) {
    fail('InvalidMac', `${verified.length} shares passed their commitment, need ${set.threshold}`);
  }
  const m = reconstructSecret(verified.slice(0, set.threshold));
  const key = K.secretKey(m, version);
  const box = verified[0]!.box;
  try {
    return {
      secret: aeadDecrypt(key, box.subarray(0, AEAD_NONCE_LEN), box.subarray(AEAD_NONCE_LEN), K.secretAd(version)),
      corruptRealms: corrupt
    };
  } finally {
    wipe(m, key, ...verified.map((v) => v.y));
  }
}

/**
 * PIN recovery, client side (steps 1, 3 and 5 of the flow described in `protocol.ts`).
 *
 * The client trusts nothing a realm says except through a MAC it can check: evaluations are
 * accepted only as part of a t-subset whose OPRF output reproduces the unlock commitment, and a
 * share only with a valid commitment under the unlock key. A realm that answers garbage is thereby
 * named and skipped (P25); the guess it was charged is reset by the correct tag like the others'.
 * Share indices come from the pinned realm order, never from a realm. Inputs are never mutated.
 */
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { aeadDecrypt, AEAD_NONCE_LEN, wipe } from '../primitives';
import { blind, finalizeUnblinded, unblind } from './oprf';
import { constantTimeEqual, isCanonicalScalar, scalarSub } from './group';
import { combineInExponent, reconstructSecret, type Share } from './shamir';
import { stretchPin, type PinStretcher } from './stretch';
import * as K from './keys';
import { ENCRYPTED_SECRET_LEN } from './record';
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
    state: { set, accessKey, encryptionKeySeed, blinds: blinded.map((b) => b.blind) },
    requests: set.ids.map((realmId, i) => ({ realmId: realmId.slice(), blindedElement: blinded[i]!.blindedElement }))
  };
}

function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  const out: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of subsets(items.slice(i + 1), size - 1)) out.push([item, ...rest]);
  });
  return out;
}

interface Candidate {
  i: number;
  unblinded: Uint8Array;
  response: EvaluationResponse;
}

/** The unlock key of a t-subset if its combined evaluation reproduces the reported commitment. */
function tryUnlock(accessKey: Uint8Array, group: readonly Candidate[]): { unlockKey: Uint8Array; oprfOutput: Uint8Array } | undefined {
  const first = group[0]!.response;
  if (!group.every((c) => constantTimeEqual(c.response.version, first.version))) return undefined;
  if (!group.every((c) => constantTimeEqual(c.response.unlockCommitment, first.unlockCommitment))) return undefined;
  try {
    const combined = combineInExponent(group.map((c) => ({ x: c.i + 1, element: c.unblinded })));
    const oprfOutput = finalizeUnblinded(accessKey, combined);
    const unlockKey = K.unlockKey(oprfOutput, first.version);
    if (constantTimeEqual(K.unlockCommitment(unlockKey, first.version), first.unlockCommitment)) return { unlockKey, oprfOutput };
  } catch {
    // A hostile element can make the combination degenerate: this subset simply does not match.
  }
  return undefined;
}

/**
 * Step 3: combine realm evaluations. 'unlocked' carries the unlock tag for every responding realm
 * (the correct tag resets each honest realm's counter); 'wrongPin' still carries tags, so that
 * sending them settles the charged guesses at once and the realms report how many remain.
 */
export function continueRecovery(
  state: RecoveryState,
  responses: readonly ({ realmId: Uint8Array } & EvaluationResponse)[]
):
  | { outcome: 'unlocked'; state: UnlockedState; tags: Tag[]; misbehavingRealms: Uint8Array[] }
  | { outcome: 'wrongPin'; tags: Tag[] } {
  const { set } = state;
  const seen = new Set<number>();
  const good: Candidate[] = [];
  const bad = new Set<number>();
  for (const r of responses) {
    const i = indexOfRealm(set, r.realmId);
    if (seen.has(i)) fail('InvalidArgument', `two evaluation responses from realm ${i}`);
    seen.add(i);
    try {
      if (r.version.length !== K.VERSION_LEN || r.unlockCommitment.length !== K.KEY_LEN) fail('DecodeFailed', 'field length');
      good.push({ i, unblinded: unblind(state.blinds[i]!, r.evaluatedElement), response: r });
    } catch {
      bad.add(i);
    }
  }
  if (good.length < set.threshold) {
    fail('InvalidMessage', `${good.length} well-formed realm evaluations, need ${set.threshold}`);
  }
  const tagsFor = (unlockKey: Uint8Array, version: Uint8Array): Tag[] =>
    [...seen].sort((a, b) => a - b).map((i) => ({ realmId: set.ids[i]!.slice(), unlockTag: K.unlockTag(unlockKey, version, set.ids[i]!) }));

  for (const group of subsets(good, set.threshold)) {
    const unlocked = tryUnlock(state.accessKey, group);
    if (!unlocked) continue;
    const version = group[0]!.response.version.slice();
    // Each realm outside the matching subset is checked by swapping it in for one member.
    for (const c of good) {
      if (!group.includes(c) && !tryUnlock(state.accessKey, [...group.slice(0, set.threshold - 1), c])) bad.add(c.i);
    }
    return {
      outcome: 'unlocked',
      state: { set, version, ...unlocked, encryptionKeySeed: state.encryptionKeySeed.slice() },
      tags: tagsFor(unlocked.unlockKey, version),
      misbehavingRealms: [...bad].sort((a, b) => a - b).map((i) => set.ids[i]!.slice())
    };
  }
  // No subset matches: wrong PIN (or more than n - t realms misbehaving, indistinguishable here).
  const first = good.slice(0, set.threshold);
  const version = first[0]!.response.version;
  const oprfOutput = finalizeUnblinded(state.accessKey, combineInExponent(first.map((c) => ({ x: c.i + 1, element: c.unblinded }))));
  const wrongKey = K.unlockKey(oprfOutput, version);
  const tags = tagsFor(wrongKey, version);
  wipe(oprfOutput, wrongKey);
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

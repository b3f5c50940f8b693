/**
 * The realm side of PIN recovery as pure state-in / state-out functions (SECURITY.md P23).
 *
 * A guess is charged when the realm *evaluates* (Juicebox, ePrint 2025/348 §4.3): the evaluation
 * and the unlock commitment returned with it let the client test its PIN, so an evaluation that is
 * never followed by a correct unlock tag must cost a guess. The realm keeps one pending evaluation;
 * the tag settles it, and a new evaluation while one is pending first settles that one as wrong.
 * All counting happens in `realmAttempt`: a wrong guess counts, only a correct one resets, and at
 * the limit the record is deleted (the state keeps nothing of it).
 *
 * Atomicity of concurrent requests is the storage layer's job: it must apply these functions to
 * one user's state serially (one transaction each). Failure (a malformed element) throws and
 * leaves the input state untouched. This module never sees a PIN or anything derived from one
 * except the unlock tag it compares.
 */
import { fail } from '../../codec/errors';
import { blindEvaluate } from './oprf';
import { constantTimeEqual } from './group';
import type { RealmRecord } from './record';

export type RealmState =
  | { status: 'registered'; record: RealmRecord; attempts: number; evaluationPending: boolean }
  | { status: 'destroyed' };

export type AttemptOutcome = 'ok' | 'wrong' | 'destroyed';

export interface EvaluationResponse {
  evaluatedElement: Uint8Array;
  unlockCommitment: Uint8Array;
  version: Uint8Array;
}

export interface ShareResponse {
  encryptedSecretShare: Uint8Array;
  encryptedSecret: Uint8Array;
  commitment: Uint8Array;
}

const DESTROYED: RealmState = { status: 'destroyed' };

/** A fresh registration (replacing any previous one for this user). */
export function realmRegister(record: RealmRecord): RealmState {
  return { status: 'registered', record, attempts: 0, evaluationPending: false };
}

/** Deletion on the user's (authenticated) request: afterwards nothing of the record remains. */
export function realmDelete(_state: RealmState): RealmState {
  return DESTROYED;
}

/** The guess counter: wrong counts, only a correct guess resets, the limit deletes the record. */
export function realmAttempt(
  state: RealmState,
  tagOk: boolean
): { state: RealmState; outcome: AttemptOutcome; remaining: number } {
  if (state.status === 'destroyed') return { state, outcome: 'destroyed', remaining: 0 };
  const limit = state.record.guessLimit;
  if (tagOk) return { state: { ...state, attempts: 0 }, outcome: 'ok', remaining: limit };
  const attempts = state.attempts + 1;
  if (attempts >= limit) return { state: DESTROYED, outcome: 'destroyed', remaining: 0 };
  return { state: { ...state, attempts }, outcome: 'wrong', remaining: limit - attempts };
}

/** OPRF evaluation with the realm's key share; charges one guess (settled by the next tag). */
export function realmEvaluate(
  state: RealmState,
  blindedElement: Uint8Array
): { state: RealmState; outcome: 'evaluated'; response: EvaluationResponse } | { state: RealmState; outcome: 'destroyed' } {
  if (state.status === 'destroyed') return { state, outcome: 'destroyed' };
  // Computed first: a malformed element throws here and costs nothing, the state is untouched.
  const evaluatedElement = blindEvaluate(state.record.oprfKeyShare, blindedElement);
  const settled = state.evaluationPending ? realmAttempt({ ...state, evaluationPending: false }, false).state : state;
  if (settled.status === 'destroyed') return { state: settled, outcome: 'destroyed' };
  const { record } = settled;
  return {
    state: { ...settled, evaluationPending: true },
    outcome: 'evaluated',
    response: { evaluatedElement, unlockCommitment: record.unlockCommitment.slice(), version: record.version.slice() }
  };
}

/** Settles the pending evaluation; releases the encrypted share only for the correct tag. */
export function realmCheckUnlockTag(
  state: RealmState,
  tag: Uint8Array
): { state: RealmState; outcome: AttemptOutcome; remaining: number; share?: ShareResponse } {
  if (state.status === 'destroyed') return { state, outcome: 'destroyed', remaining: 0 };
  if (!state.evaluationPending) fail('InvalidMessage', 'unlock tag without a pending evaluation');
  const { record } = state;
  const result = realmAttempt({ ...state, evaluationPending: false }, constantTimeEqual(tag, record.unlockTag));
  if (result.outcome !== 'ok') return result;
  return {
    ...result,
    share: {
      encryptedSecretShare: record.encryptedSecretShare.slice(),
      encryptedSecret: record.encryptedSecret.slice(),
      commitment: record.commitment.slice()
    }
  };
}

/**
 * The realm side of PIN recovery as pure state-in / state-out functions (SECURITY.md P23, P38).
 *
 * A guess is charged when the realm *evaluates* (Juicebox, ePrint 2025/348 §4.3): the evaluation
 * and the unlock commitment returned with it let the client test its PIN, so an evaluation that is
 * never followed by a correct unlock tag must cost a guess. The realm keeps one pending evaluation;
 * the tag settles it, and a new evaluation while one is pending first settles that one as wrong.
 * All counting happens in `realmAttempt`: a wrong guess counts, only a correct one resets, and at
 * the limit the record is deleted (the state keeps nothing of it).
 *
 * P38: after two wrong guesses each further evaluation waits a growing delay (guess-delay.ts); a
 * refused evaluation changes nothing and charges nothing. The state remembers when the current run
 * of wrong guesses began, so the owner can be told "N wrong attempts since ...". Every evaluation
 * answer carries a DLEQ proof (dleq.ts) and the registration's signature over this realm's public
 * key share (realm-key.ts), so the client can check it before trusting it.
 *
 * Atomicity of concurrent requests is the storage layer's job: it must apply these functions to
 * one user's state serially (one transaction each). Failure (a malformed element) throws and
 * leaves the input state untouched. This module never sees a PIN or anything derived from one
 * except the unlock tag it compares. Time and randomness come from `deps`.
 */
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { blindEvaluate, publicKeyOf } from './oprf';
import { generateProof, generator } from './dleq';
import { constantTimeEqual } from './group';
import { waitBeforeEvaluation } from './guess-delay';
import type { RealmRecord } from './record';

export interface RegisteredState {
  status: 'registered';
  record: RealmRecord;
  /** Wrong guesses since the last correct one (or the registration). */
  attempts: number;
  evaluationPending: boolean;
  /** When the last evaluation was answered (ms; 0 = never): the delays count from here. */
  lastEvaluationAt: number;
  /** When the current run of wrong guesses began (ms), or null after a correct guess. */
  failingSince: number | null;
}

export type RealmState = RegisteredState | { status: 'destroyed' };

export type AttemptOutcome = 'ok' | 'wrong' | 'destroyed';

export interface EvaluationResponse {
  evaluatedElement: Uint8Array;
  /** RFC 9497 §2.2 proof that evaluatedElement = k_i * blindedElement for k_i behind publicKey. */
  proof: Uint8Array;
  /** k_i * G. */
  publicKey: Uint8Array;
  registrationKey: Uint8Array;
  keySignature: Uint8Array;
  unlockCommitment: Uint8Array;
  version: Uint8Array;
}

export interface ShareResponse {
  encryptedSecretShare: Uint8Array;
  encryptedSecret: Uint8Array;
  commitment: Uint8Array;
}

/** What the owner's app is told by `status` (P38 alerts). */
export interface RealmHealth {
  /** Guesses left, counting a pending evaluation as already charged. */
  remaining: number;
  /** Wrong guesses (a pending one included) since the last correct one. */
  wrongGuesses: number;
  /** Start of that run of wrong guesses (ms), or null. */
  failingSince: number | null;
  /** How long the next evaluation would be refused (ms). */
  retryAfterMs: number;
}

const DESTROYED: RealmState = { status: 'destroyed' };

/** A fresh registration (replacing any previous one for this user). */
export function realmRegister(record: RealmRecord): RealmState {
  return { status: 'registered', record, attempts: 0, evaluationPending: false, lastEvaluationAt: 0, failingSince: null };
}

/** Deletion on the user's (authenticated) request: afterwards nothing of the record remains. */
export function realmDelete(_state: RealmState): RealmState {
  return DESTROYED;
}

/**
 * The guess counter: wrong counts, only a correct guess resets, the limit deletes the record.
 * `failedAt` is when the guess being settled was made (its evaluation time).
 */
export function realmAttempt(
  state: RealmState,
  tagOk: boolean,
  failedAt = state.status === 'registered' ? state.lastEvaluationAt : 0
): { state: RealmState; outcome: AttemptOutcome; remaining: number } {
  if (state.status === 'destroyed') return { state, outcome: 'destroyed', remaining: 0 };
  const limit = state.record.guessLimit;
  if (tagOk) return { state: { ...state, attempts: 0, failingSince: null }, outcome: 'ok', remaining: limit };
  const attempts = state.attempts + 1;
  if (attempts >= limit) return { state: DESTROYED, outcome: 'destroyed', remaining: 0 };
  return { state: { ...state, attempts, failingSince: state.failingSince ?? failedAt }, outcome: 'wrong', remaining: limit - attempts };
}

/** Guesses left and the run of wrong guesses, as `status` reports them. */
export function realmHealth(state: RealmState, now: number): RealmHealth {
  if (state.status !== 'registered') return { remaining: 0, wrongGuesses: 0, failingSince: null, retryAfterMs: 0 };
  const pending = state.evaluationPending ? 1 : 0;
  const wrongGuesses = state.attempts + pending;
  return {
    remaining: Math.max(0, state.record.guessLimit - wrongGuesses),
    wrongGuesses,
    failingSince: state.failingSince ?? (pending ? state.lastEvaluationAt : null),
    retryAfterMs: waitBeforeEvaluation(wrongGuesses, state.lastEvaluationAt, now)
  };
}

/** OPRF evaluation with the realm's key share and its proof; charges one guess (settled by the next tag). */
export function realmEvaluate(
  state: RealmState,
  blindedElement: Uint8Array,
  deps: Deps
):
  | { state: RealmState; outcome: 'evaluated'; response: EvaluationResponse }
  | { state: RealmState; outcome: 'destroyed' }
  | { state: RealmState; outcome: 'tooSoon'; retryAfterMs: number } {
  if (state.status === 'destroyed') return { state, outcome: 'destroyed' };
  const now = deps.now();
  // Computed first: a malformed element throws here and costs nothing, the state is untouched.
  const evaluatedElement = blindEvaluate(state.record.oprfKeyShare, blindedElement);
  const settled = state.evaluationPending ? realmAttempt({ ...state, evaluationPending: false }, false).state : state;
  if (settled.status === 'destroyed') return { state: settled, outcome: 'destroyed' };
  const retryAfterMs = waitBeforeEvaluation(settled.attempts, settled.lastEvaluationAt, now);
  // Refused: nothing is charged and nothing changes (a pending evaluation stays pending).
  if (retryAfterMs > 0) return { state, outcome: 'tooSoon', retryAfterMs };
  const { record } = settled;
  const publicKey = publicKeyOf(record.oprfKeyShare);
  const proof = generateProof(record.oprfKeyShare, generator(), publicKey, [blindedElement], [evaluatedElement], deps);
  return {
    state: { ...settled, evaluationPending: true, lastEvaluationAt: now },
    outcome: 'evaluated',
    response: {
      evaluatedElement,
      proof,
      publicKey,
      registrationKey: record.registrationKey.slice(),
      keySignature: record.keySignature.slice(),
      unlockCommitment: record.unlockCommitment.slice(),
      version: record.version.slice()
    }
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

/**
 * PIN registration and recovery against the pinned realms over HTTP (DESIGN.md §7,
 * SECURITY.md P23-P25, P38): the I/O around the pure protocol in `src/lib/crypto/pin/`.
 *
 * Recovery makes three rounds: (0) `status` to every realm, so a guess is only spent when at least
 * t realms still hold a registration and may evaluate now (a guess is charged at evaluation, so
 * evaluating while too few realms can answer would burn one for nothing); (1) `evaluate` on the
 * registered realms, whose answers are checked (signature and DLEQ proof) before the PIN is:
 * a tampered answer is reported as tampering with the realm named, never as a wrong PIN; (2) the
 * unlock tags, whose correct values reset every honest realm's counter and release the shares.
 *
 * Every outcome says truthfully whether a guess was spent: 'no' only when no realm evaluated,
 * 'maybe' when a realm may have evaluated without its answer reaching us, 'yes' otherwise.
 *
 * Production callers never pass `stretch`: the pinned Argon2id (`stretchPin`) is the default;
 * tests inject a cheap one. Secrets stay in this worker's memory and are wiped after use.
 */
import { fail } from '../../../src/lib/codec/errors';
import type { Deps } from '../../../src/lib/crypto/deps';
import { wipe } from '../../../src/lib/crypto/primitives';
import { continueRecovery, finishRecovery, prepareRegistration, startRecovery } from '../../../src/lib/crypto/pin/protocol';
import { MASTER_SECRET_LEN } from '../../../src/lib/crypto/pin/record';
import { realmAuthKey, realmUserId } from '../../../src/lib/crypto/pin/realm-auth';
import type { PinStretcher } from '../../../src/lib/crypto/pin/stretch';
import type { RealmResponse } from '../../../src/lib/wire/realm-api';
import { bytesEqual } from '../../../src/lib/codec/bytes';
import { callRealms, type FetchLike, type RealmEndpoint } from './realm-client';

export interface PinRealms {
  username: string;
  realms: readonly RealmEndpoint[];
  threshold: number;
}

export interface RecoveryOptions {
  /** Tests only: production uses the pinned Argon2id. */
  stretch?: PinStretcher;
  timeoutMs?: number;
}

import type { AttemptUsed } from '../../../src/lib/vault/views';

/** Whether a recovery attempt spent a guess (the views' type: the UI words it). */
export type { AttemptUsed };

export type RecoverOutcome =
  | { ok: Uint8Array; /** Indices of realms whose answers failed verification. */ suspectRealms: number[] }
  | { wrongPin: true; /** Guesses left before fewer than t realms hold a share. */ remaining: number }
  | { destroyed: true }
  | { notRegistered: true }
  /** Realms refuse evaluations for now (P38 delays): nothing was tested. */
  | { tooSoon: true; retryAfterMs: number; attemptUsed: AttemptUsed }
  /** Realms' answers failed verification, so the PIN could not be tested (P38). */
  | { tampered: true; realms: number[]; attemptUsed: AttemptUsed; remaining: number }
  | { unavailable: true; reachable: number; attemptUsed: AttemptUsed };

/** The t-th largest budget: after that many more wrong guesses fewer than t realms are left. */
function guessesLeft(budgets: readonly number[], threshold: number): number {
  return [...budgets].sort((a, b) => b - a)[threshold - 1] ?? 0;
}

/** The t-th smallest wait: how long until t realms would evaluate again. */
function waitForThreshold(waits: readonly number[], threshold: number): number {
  return [...waits].sort((a, b) => a - b)[threshold - 1] ?? 0;
}

export interface RegisterInput extends PinRealms {
  pin: string;
  /** The master secret to protect; a fresh random one when absent. */
  secret?: Uint8Array;
  /** Per realm: the current auth key, needed to replace an existing registration (or tombstone). */
  proofs?: readonly Uint8Array[];
  /** Per realm: the host's registration token, needed for a first registration (P38). */
  tokens?: readonly Uint8Array[];
  guessLimit?: number;
}

/**
 * Registers `pin` on every realm; returns the master secret. Replacing an existing registration
 * needs the auth keys of the master secret it was made with (`proofs`, defaulting to this secret's).
 */
export async function registerPin(input: RegisterInput, deps: Deps, fetchFn: FetchLike, opts: RecoveryOptions = {}): Promise<Uint8Array> {
  const secret = input.secret?.slice() ?? deps.rng(MASTER_SECRET_LEN);
  const userId = realmUserId(input.username);
  // Every realm must be up before any is changed: a PIN change applied to only some realms would
  // leave registrations of two versions, and fewer than n realms able to answer for either.
  const up = await callRealms(input.realms, (realm) => ({ op: 'status', realmId: realm.id, userId }), fetchFn, opts.timeoutMs);
  const down = up.filter((r) => r?.op !== 'status' || r.status !== 'ok').length;
  if (down > 0) fail('InvalidMessage', `${down} of ${input.realms.length} realms unavailable; registration not attempted`);
  const { registrations } = prepareRegistration(
    { username: input.username, pin: input.pin, secret, realms: input.realms, threshold: input.threshold, guessLimit: input.guessLimit },
    deps,
    opts.stretch
  );
  const results = await callRealms(
    input.realms,
    (realm, i) => {
      const token = input.tokens?.[i];
      return {
        op: 'register',
        realmId: realm.id,
        userId,
        authKey: realmAuthKey(secret, realm.id, input.username),
        proof: input.proofs?.[i] ?? realmAuthKey(secret, realm.id, input.username),
        ...(token ? { token } : {}),
        record: registrations[i]!.record
      };
    },
    fetchFn,
    opts.timeoutMs
  );
  const refused = results.map((r, i) => (r?.status === 'ok' ? -1 : i)).filter((i) => i >= 0);
  if (refused.length > 0) {
    const why = results.map((r) => r?.status ?? 'unreachable').join(', ');
    fail('InvalidMessage', `registration accepted by ${results.length - refused.length} of ${results.length} realms (${why})`);
  }
  return secret;
}

/** Turns recovery off: every realm deletes the record (a tombstone keeps only the verifier). */
export async function deletePin(
  input: Omit<PinRealms, 'threshold'> & { proofs: readonly Uint8Array[] },
  fetchFn: FetchLike,
  opts: RecoveryOptions = {}
): Promise<{ deleted: number; failed: number }> {
  const userId = realmUserId(input.username);
  const results = await callRealms(input.realms, (realm, i) => ({ op: 'delete', realmId: realm.id, userId, proof: input.proofs[i]! }), fetchFn, opts.timeoutMs);
  const deleted = results.filter((r) => r?.status === 'ok' || r?.status === 'notRegistered').length;
  return { deleted, failed: results.length - deleted };
}

/** What one realm says about a user's registration (P38 alerts in the signed-in app). */
export interface RealmStanding {
  state: 'registered' | 'destroyed' | 'none' | 'unreachable';
  remaining: number;
  wrongGuesses: number;
  failingSince: number | null;
  retryAfterMs: number;
}

export async function realmStandings(input: Omit<PinRealms, 'threshold'>, fetchFn: FetchLike, opts: RecoveryOptions = {}): Promise<RealmStanding[]> {
  const userId = realmUserId(input.username);
  const answers = await callRealms(input.realms, (r) => ({ op: 'status', realmId: r.id, userId }), fetchFn, opts.timeoutMs);
  return answers.map((a) =>
    a?.op === 'status' && a.status === 'ok'
      ? { state: a.state, remaining: a.remaining, wrongGuesses: a.wrongGuesses, failingSince: a.failingSince, retryAfterMs: a.retryAfterMs }
      : { state: 'unreachable', remaining: 0, wrongGuesses: 0, failingSince: null, retryAfterMs: 0 }
  );
}

/** What one realm's last answer says about its registration ('unknown' if it said nothing useful). */
function standing(a: RealmResponse | undefined): 'destroyed' | 'none' | 'unknown' {
  if (a?.status === 'destroyed') return 'destroyed';
  if (a?.status === 'notRegistered') return 'none';
  if (a?.op !== 'status' || a.status !== 'ok' || a.state === 'registered') {
    // A registration whose last guess is pending is as good as destroyed for an honest client.
    return a?.op === 'status' && a.status === 'ok' && a.remaining === 0 ? 'destroyed' : 'unknown';
  }
  return a.state;
}

/** Why fewer than t realms can take part: everything gone, never registered, or just unreachable. */
function shortfall(threshold: number, answers: readonly (RealmResponse | undefined)[], attemptUsed: AttemptUsed): RecoverOutcome {
  const kinds = answers.map(standing);
  const destroyed = kinds.filter((k) => k === 'destroyed').length;
  const none = kinds.filter((k) => k === 'none').length;
  if (answers.length - destroyed - none < threshold) return destroyed > 0 ? { destroyed: true } : { notRegistered: true };
  const reachable = answers.filter((a) => a !== undefined && a.status !== 'rateLimited' && a.status !== 'wrongRealm').length;
  return { unavailable: true, reachable, attemptUsed };
}

/** Tests one PIN guess against the realms (charges one guess on each realm it evaluates on). */
export async function recoverWithPin(input: PinRealms & { pin: string }, deps: Deps, fetchFn: FetchLike, opts: RecoveryOptions = {}): Promise<RecoverOutcome> {
  const { realms, threshold } = input;
  const ids = realms.map((r) => r.id);
  const userId = realmUserId(input.username);
  const call = callRealms.bind(null, realms);

  const statuses = await call((r) => ({ op: 'status', realmId: r.id, userId }), fetchFn, opts.timeoutMs);
  const registered = statuses.map((s) => (s?.op === 'status' && s.status === 'ok' && s.state === 'registered' ? s : undefined));
  const budgets = registered.map((s) => s?.remaining ?? 0);
  const live = budgets.map((b) => b > 0);
  if (live.filter(Boolean).length < threshold) return shortfall(threshold, statuses, 'no');
  // P38 delays: if fewer than t realms would evaluate now, spend nothing and say when to retry.
  const waits = registered.filter((s) => s !== undefined && s.remaining > 0).map((s) => s!.retryAfterMs);
  const wait = waitForThreshold(waits, threshold);
  if (wait > 0) return { tooSoon: true, retryAfterMs: wait, attemptUsed: 'no' };

  const { state, requests } = startRecovery({ username: input.username, pin: input.pin, realms, threshold }, deps, opts.stretch);
  try {
    const evals = await call((r, i) => (live[i] ? { op: 'evaluate', realmId: r.id, userId, blindedElement: requests[i]!.blindedElement } : undefined), fetchFn, opts.timeoutMs);
    const evaluated = evals.map((e, i) => (e?.op === 'evaluate' && e.status === 'ok' ? { realmId: ids[i]!, ...e.evaluation } : undefined));
    const evaluations = evaluated.filter((e) => e !== undefined);
    // A realm we asked that did not answer may have charged the guess all the same.
    const silent = evals.some((e, i) => live[i] && e === undefined);
    const used: AttemptUsed = evaluations.length > 0 ? 'yes' : silent ? 'maybe' : 'no';
    const charged = budgets.map((b, i) => (evaluated[i] || (live[i] && evals[i] === undefined) ? Math.max(0, b - 1) : b));
    if (evaluations.length < threshold) {
      const refusedForNow = evals.map((e) => (e?.op === 'evaluate' && e.status === 'tooSoon' ? e.retryAfterMs : 0)).filter((w) => w > 0);
      if (refusedForNow.length > 0) return { tooSoon: true, retryAfterMs: Math.max(...refusedForNow), attemptUsed: used };
      return shortfall(threshold, evals.map((e, i) => e ?? statuses[i]), used);
    }
    const combined = continueRecovery(state, evaluations);
    const indexOf = (id: Uint8Array): number => ids.findIndex((x) => bytesEqual(x, id));
    if (combined.outcome === 'tampered') {
      return { tampered: true, realms: combined.realms.map(indexOf), attemptUsed: used, remaining: guessesLeft(charged, threshold) };
    }
    const tagFor = (i: number) => combined.tags.find((t) => bytesEqual(t.realmId, ids[i]!));
    const answers = await call((r, i) => {
      const tag = evaluated[i] ? tagFor(i) : undefined;
      return tag ? { op: 'submitTag', realmId: r.id, userId, unlockTag: tag.unlockTag } : undefined;
    }, fetchFn, opts.timeoutMs);

    if (combined.outcome === 'unlocked') {
      const shares = answers.flatMap((a, i) => (a?.op === 'submitTag' && a.status === 'ok' && 'share' in a ? [{ realmId: ids[i]!, ...a.share }] : []));
      // The tag is right (the verified commitment matched): a realm that calls it wrong is misbehaving.
      const refusing = answers.map((a, i) => (evaluated[i] && a !== undefined && !(a.op === 'submitTag' && a.status === 'ok') ? i : -1)).filter((i) => i >= 0);
      try {
        if (shares.length < threshold) {
          if (refusing.length > 0) return { tampered: true, realms: refusing, attemptUsed: 'maybe', remaining: guessesLeft(charged, threshold) };
          return { unavailable: true, reachable: shares.length, attemptUsed: 'maybe' };
        }
        let result: ReturnType<typeof finishRecovery>;
        try {
          result = finishRecovery(combined.state, shares);
        } catch {
          // Fewer than t shares passed their commitments: named, not a wrong PIN.
          return { tampered: true, realms: shares.map((s) => indexOf(s.realmId)), attemptUsed: 'maybe', remaining: guessesLeft(charged, threshold) };
        }
        const suspect = [...combined.misbehavingRealms, ...result.corruptRealms].map(indexOf);
        return { ok: result.secret, suspectRealms: [...new Set([...suspect, ...refusing])].sort((a, b) => a - b) };
      } finally {
        wipe(combined.state.unlockKey, combined.state.oprfOutput, combined.state.encryptionKeySeed);
      }
    }
    const after = answers.map((a, i) => {
      if (a?.op === 'submitTag' && a.status === 'wrongGuess') return a.remaining;
      if (a?.status === 'destroyed') return 0;
      // Unknown answer: an evaluated realm has charged this guess since its status was read.
      return charged[i]!;
    });
    const remaining = guessesLeft(after, threshold);
    return remaining === 0 ? { destroyed: true } : { wrongPin: true, remaining };
  } finally {
    wipe(state.accessKey, state.encryptionKeySeed, ...state.blinds);
  }
}

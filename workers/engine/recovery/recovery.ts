/**
 * PIN registration and recovery against the pinned realms over HTTP (DESIGN.md §7,
 * SECURITY.md P23-P25): the I/O around the pure protocol in `src/lib/crypto/pin/`.
 *
 * Recovery makes three rounds: (0) `status` to every realm, so a guess is only spent when at least
 * t realms still hold a registration (a guess is charged at evaluation, so evaluating while too
 * few realms can answer would burn one for nothing); (1) `evaluate` on the registered realms;
 * (2) the unlock tags, whose correct values reset every honest realm's counter and release the
 * shares. Garbage from a realm is detected by the protocol's commitments and costs no guess (P25).
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

export type RecoverOutcome =
  | { ok: Uint8Array; /** Indices of realms whose answers failed verification. */ suspectRealms: number[] }
  | { wrongPin: true; /** Guesses left before fewer than t realms hold a share. */ remaining: number }
  | { destroyed: true }
  | { notRegistered: true }
  | { unavailable: true; reachable: number };

/** The t-th largest budget: after that many more wrong guesses fewer than t realms are left. */
function guessesLeft(budgets: readonly number[], threshold: number): number {
  return [...budgets].sort((a, b) => b - a)[threshold - 1] ?? 0;
}

/**
 * Registers `pin` on every realm; returns the master secret (a fresh random one unless given).
 * Replacing an existing registration needs the master secret it was made with (`previousSecret`,
 * defaulting to `secret`), from which the realms' auth keys derive.
 */
export async function registerPin(
  input: PinRealms & { pin: string; secret?: Uint8Array; previousSecret?: Uint8Array; guessLimit?: number },
  deps: Deps,
  fetchFn: FetchLike,
  opts: RecoveryOptions = {}
): Promise<Uint8Array> {
  const secret = input.secret?.slice() ?? deps.rng(MASTER_SECRET_LEN);
  const proofSecret = input.previousSecret ?? secret;
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
    (realm, i) => ({
      op: 'register',
      realmId: realm.id,
      userId,
      authKey: realmAuthKey(secret, realm.id, input.username),
      proof: realmAuthKey(proofSecret, realm.id, input.username),
      record: registrations[i]!.record
    }),
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

/** Same master secret (the account record stays readable), new PIN; authorised by that secret. */
export function changePin(input: PinRealms & { pin: string; secret: Uint8Array }, deps: Deps, fetchFn: FetchLike, opts: RecoveryOptions = {}): Promise<Uint8Array> {
  return registerPin({ ...input, previousSecret: input.secret }, deps, fetchFn, opts);
}

/** Turns recovery off: every realm deletes the record (a tombstone keeps only the verifier). */
export async function deletePin(
  input: Omit<PinRealms, 'threshold'> & { secret: Uint8Array },
  fetchFn: FetchLike,
  opts: RecoveryOptions = {}
): Promise<{ deleted: number; failed: number }> {
  const userId = realmUserId(input.username);
  const results = await callRealms(
    input.realms,
    (realm) => ({ op: 'delete', realmId: realm.id, userId, proof: realmAuthKey(input.secret, realm.id, input.username) }),
    fetchFn,
    opts.timeoutMs
  );
  const deleted = results.filter((r) => r?.status === 'ok' || r?.status === 'notRegistered').length;
  return { deleted, failed: results.length - deleted };
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
function shortfall(threshold: number, answers: readonly (RealmResponse | undefined)[]): RecoverOutcome {
  const kinds = answers.map(standing);
  const destroyed = kinds.filter((k) => k === 'destroyed').length;
  const none = kinds.filter((k) => k === 'none').length;
  if (answers.length - destroyed - none < threshold) return destroyed > 0 ? { destroyed: true } : { notRegistered: true };
  return { unavailable: true, reachable: answers.filter((a) => a !== undefined && a.status !== 'rateLimited' && a.status !== 'wrongRealm').length };
}

/** Tests one PIN guess against the realms (charges one guess on each realm it evaluates on). */
export async function recoverWithPin(input: PinRealms & { pin: string }, deps: Deps, fetchFn: FetchLike, opts: RecoveryOptions = {}): Promise<RecoverOutcome> {
  const { realms, threshold } = input;
  const ids = realms.map((r) => r.id);
  const userId = realmUserId(input.username);
  const call = callRealms.bind(null, realms);

  const statuses = await call((r) => ({ op: 'status', realmId: r.id, userId }), fetchFn, opts.timeoutMs);
  const budgets = statuses.map((s) => (s?.op === 'status' && s.status === 'ok' && s.state === 'registered' ? s.remaining : 0));
  const live = budgets.map((b) => b > 0);
  if (live.filter(Boolean).length < threshold) return shortfall(threshold, statuses);

  const { state, requests } = startRecovery({ username: input.username, pin: input.pin, realms, threshold }, deps, opts.stretch);
  try {
    const evals = await call((r, i) => (live[i] ? { op: 'evaluate', realmId: r.id, userId, blindedElement: requests[i]!.blindedElement } : undefined), fetchFn, opts.timeoutMs);
    const evaluated = evals.map((e, i) => (e?.op === 'evaluate' && e.status === 'ok' ? { realmId: ids[i]!, ...e.evaluation } : undefined));
    const evaluations = evaluated.filter((e) => e !== undefined);
    if (evaluations.length < threshold) return shortfall(threshold, evals.map((e, i) => e ?? statuses[i]));
    let combined: ReturnType<typeof continueRecovery>;
    try {
      combined = continueRecovery(state, evaluations);
    } catch {
      return { unavailable: true, reachable: evaluations.length };
    }
    const tagFor = (i: number) => combined.tags.find((t) => bytesEqual(t.realmId, ids[i]!));
    const answers = await call((r, i) => {
      const tag = evaluated[i] ? tagFor(i) : undefined;
      return tag ? { op: 'submitTag', realmId: r.id, userId, unlockTag: tag.unlockTag } : undefined;
    }, fetchFn, opts.timeoutMs);

    if (combined.outcome === 'unlocked') {
      const shares = answers.flatMap((a, i) => (a?.op === 'submitTag' && a.status === 'ok' && 'share' in a ? [{ realmId: ids[i]!, ...a.share }] : []));
      if (shares.length < threshold) return { unavailable: true, reachable: shares.length };
      try {
        const { secret, corruptRealms } = finishRecovery(combined.state, shares);
        const suspect = [...combined.misbehavingRealms, ...corruptRealms].map((id) => ids.findIndex((x) => bytesEqual(x, id)));
        return { ok: secret, suspectRealms: [...new Set(suspect)].sort((a, b) => a - b) };
      } finally {
        wipe(combined.state.unlockKey, combined.state.oprfOutput, combined.state.encryptionKeySeed);
      }
    }
    const after = answers.map((a, i) => {
      if (a?.op === 'submitTag' && a.status === 'wrongGuess') return a.remaining;
      if (a?.status === 'destroyed') return 0;
      // Unknown answer: an evaluated realm has charged this guess since its status was read.
      return evaluated[i] ? Math.max(0, budgets[i]! - 1) : budgets[i]!;
    });
    const remaining = guessesLeft(after, threshold);
    return remaining === 0 ? { destroyed: true } : { wrongPin: true, remaining };
  } finally {
    wipe(state.accessKey, state.encryptionKeySeed, ...state.blinds);
  }
}

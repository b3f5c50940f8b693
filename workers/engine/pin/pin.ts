/**
 * PIN recovery on an existing account (DESIGN.md §7, SECURITY.md P37, P38): set a recovery secret
 * (a short PIN only with independent realms, else a strong passphrase or a recovery key), change
 * it, repair it, turn recovery off, watch the realms for guessing, and the spaced reminders.
 *
 * The master secret exists in this worker only while it is being used: at setup, and when the
 * current secret is entered to change or repair it. What is kept is keys.ts's derived keys, so a
 * browser that was restored away from, or a stolen laptop, cannot prove the master secret to take
 * the account back (P37). For the same reason a short PIN gets no local reminder verifier (it
 * would be an offline PIN test on a stolen device): its reminder checks with the realms, where a
 * wrong entry costs one attempt and the user is told so. A passphrase or recovery key, which an
 * offline search cannot find, keeps the local verifier (no realm guess spent).
 */
import { fail } from '../../../src/lib/codec/errors';
import { PROFILE_KEY_LEN } from '../../../src/lib/crypto/account-record';
import { canonicalRecoverySecret, checkRecoverySecret, generateRecoveryKey, type SecretCheck } from '../../../src/lib/crypto/pin/secret-policy';
import { stretchPin } from '../../../src/lib/crypto/pin/stretch';
import { sha256, wipe } from '../../../src/lib/crypto/primitives';
import { bytesEqual } from '../../../src/lib/codec/bytes';
import {
  deletePinState,
  getLegacyPreviousSecret,
  getPinState,
  getPreviousAuthKeys,
  putPinState,
  putPreviousAuthKeys,
  sealPinState,
  sealPreviousAuthKeys,
  type PinState
} from '../../storage/pin-repo';
import { commit } from '../../storage/vault';
import { hostAuth } from '../account';
import { requireMe, type EngineContext, type RecoveryConfig } from '../context';
import { deletePin, realmStandings, recoverWithPin, registerPin } from '../recovery/recovery';
import { realmAuthKey } from '../../../src/lib/crypto/pin/realm-auth';
import { deriveRecoveryKeys } from './keys';
import { problemOf, realmName } from './outcomes';
import { buildAccountRecord, recordDigest, uploadAccountRecord } from './record';
import { afterEntry, firstReminder, reminderDue } from './reminder';
import { estimateGuessesLog10 } from './strength';
import { engineFail } from '../errors';
import type { Username } from '../../../src/lib/codec/username';
import type { PinChangeOutcome, PinStatus, RecoveryHealth, RecoveryProblem } from '../../../src/lib/vault/views';


export function requireRecovery(ctx: EngineContext): RecoveryConfig {
  if (!ctx.recovery) fail('NotInitialized', 'no PIN-recovery realms are configured');
  return ctx.recovery;
}

export function localVerifier(ctx: EngineContext, secret: string, username: Username, salt: Uint8Array): Uint8Array {
  const stretch = ctx.recovery?.stretch ?? stretchPin;
  return sha256(stretch(canonicalRecoverySecret(secret), username, salt).accessKey);
}

/** The acceptance rule with this deployment's realms and the worker's strength estimate. */
export async function checkSecret(ctx: EngineContext, secret: string): Promise<SecretCheck> {
  const rc = requireRecovery(ctx);
  const guessesLog10 = await estimateGuessesLog10(secret, ctx.me ? [ctx.me.username] : []);
  return checkRecoverySecret(secret, { independent: rc.independent === true, guessesLog10 });
}

export function newRecoveryKey(ctx: EngineContext): string {
  return generateRecoveryKey(ctx.deps);
}

async function requireAcceptable(ctx: EngineContext, secret: string): Promise<SecretCheck & { ok: true }> {
  const c = await checkSecret(ctx, secret);
  if (!c.ok) fail('InvalidArgument', c.reason);
  return c;
}

async function savePin(ctx: EngineContext, state: PinState): Promise<void> {
  const sealed = await sealPinState(ctx.vault, state);
  await commit(ctx.vault, (tx) => putPinState(tx, sealed));
}

/** This browser's PIN state, replacing a pre-P37 row (the master secret itself) with derived keys. */
export async function loadPinState(ctx: EngineContext): Promise<PinState | undefined> {
  const s = await getPinState(ctx.vault);
  if (!s || 'keys' in s) return s;
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  const state: PinState = {
    keys: deriveRecoveryKeys(s.legacySecret, me.username, rc.realms),
    kind: 'pin',
    registeredAt: s.registeredAt,
    level: s.level,
    nextReminderAt: s.nextReminderAt,
    profileKey: s.profileKey
  };
  wipe(s.legacySecret);
  // The host learns the takeover key from this upload; until it has it, no takeover is possible.
  await uploadAccountRecord(ctx, state);
  await savePin(ctx, state);
  return state;
}

async function previousProofs(ctx: EngineContext, username: string, rc: RecoveryConfig): Promise<Uint8Array[] | undefined> {
  const keys = await getPreviousAuthKeys(ctx.vault);
  if (keys) return keys;
  const legacy = await getLegacyPreviousSecret(ctx.vault);
  return legacy ? rc.realms.map((r) => realmAuthKey(legacy, r.id, username)) : undefined;
}

async function tokensFor(ctx: EngineContext, rc: RecoveryConfig): Promise<Uint8Array[] | undefined> {
  const me = requireMe(ctx);
  return ctx.transport.realmTokens?.(hostAuth(me), rc.realms.map((r) => r.id));
}

function newState(ctx: EngineContext, secret: string, kind: PinState['kind'], username: Username, base: Omit<PinState, 'kind' | 'localSalt' | 'verifier' | 'level' | 'nextReminderAt'>): PinState {
  const reminder = firstReminder(ctx.deps.now());
  if (kind === 'pin') return { ...base, kind, ...reminder };
  const localSalt = ctx.deps.rng(32);
  return { ...base, kind, localSalt, verifier: localVerifier(ctx, secret, username, localSalt), ...reminder };
}

export async function setupPin(ctx: EngineContext, input: string): Promise<PinStatus> {
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  const { kind } = await requireAcceptable(ctx, input);
  if (await getPinState(ctx.vault)) fail('InvalidArgument', 'recovery is already on; change the secret instead');
  const secretText = canonicalRecoverySecret(input);
  const opts = rc.stretch ? { stretch: rc.stretch } : {};
  const proofs = await previousProofs(ctx, me.username, rc);
  const tokens = await tokensFor(ctx, rc);
  const secret = await registerPin(
    { username: me.username, realms: rc.realms, threshold: rc.threshold, pin: secretText, ...(proofs ? { proofs } : {}), ...(tokens ? { tokens } : {}) },
    ctx.deps,
    rc.fetch,
    opts
  );
  try {
    const keys = deriveRecoveryKeys(secret, me.username, rc.realms);
    const state = newState(ctx, secretText, kind, me.username, { keys, registeredAt: ctx.deps.now(), profileKey: ctx.deps.rng(PROFILE_KEY_LEN) });
    await savePin(ctx, state);
    await uploadAccountRecord(ctx, state);
  } finally {
    wipe(secret);
  }
  return pinStatus(ctx);
}

/**
 * Recovers the master secret with the CURRENT secret (this browser does not keep it, P37), checks
 * it is this account's backup, then registers `next` for it on every realm. With `next` equal to
 * `current` this is the repair after a realm lost its share (P38): the realms that still hold it
 * give the secret back and every realm gets a fresh registration.
 */
export async function changePin(ctx: EngineContext, current: string, next: string): Promise<PinChangeOutcome> {
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  const { kind } = await requireAcceptable(ctx, next);
  const state = await loadPinState(ctx);
  if (!state) fail('InvalidArgument', 'recovery is off');
  const opts = rc.stretch ? { stretch: rc.stretch } : {};
  const base = { username: me.username, realms: rc.realms, threshold: rc.threshold };
  const outcome = await recoverWithPin({ ...base, pin: canonicalRecoverySecret(current) }, ctx.deps, rc.fetch, opts);
  if (!('ok' in outcome)) return problemOf(outcome, rc.realms)!;
  const secret = outcome.ok;
  try {
    if (!bytesEqual(deriveRecoveryKeys(secret, me.username, rc.realms).accessKey, state.keys.accessKey)) {
      fail('InvalidArgument', 'the realms returned a different backup than this browser set up');
    }
    const tokens = await tokensFor(ctx, rc);
    const nextText = canonicalRecoverySecret(next);
    await registerPin({ ...base, pin: nextText, secret, proofs: state.keys.realmAuthKeys, ...(tokens ? { tokens } : {}) }, ctx.deps, rc.fetch, opts);
    await savePin(ctx, newState(ctx, nextText, kind, me.username, { keys: state.keys, registeredAt: ctx.deps.now(), profileKey: state.profileKey }));
  } finally {
    wipe(secret);
  }
  return { status: 'changed', pin: await pinStatus(ctx) };
}

/** Turns recovery off: realms delete their shares, the host its record, this vault its keys. */
export async function disablePin(ctx: EngineContext): Promise<PinStatus> {
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  const state = await loadPinState(ctx);
  if (!state) return pinStatus(ctx);
  const r = await deletePin({ username: me.username, realms: rc.realms, proofs: state.keys.realmAuthKeys }, rc.fetch);
  if (r.failed > 0) engineFail('Unavailable', `${r.failed} of ${rc.realms.length} realms could not be reached; recovery is still on`);
  await ctx.transport.deleteAccountRecord?.(hostAuth(me), state.keys.accessKey);
  const previous = await sealPreviousAuthKeys(ctx.vault, state.keys.realmAuthKeys);
  await commit(ctx.vault, async (tx) => {
    await deletePinState(tx);
    await putPreviousAuthKeys(tx, previous);
  });
  return pinStatus(ctx);
}

export async function pinStatus(ctx: EngineContext): Promise<PinStatus> {
  requireMe(ctx);
  const state = await getPinState(ctx.vault);
  const shortPinAllowed = ctx.recovery?.independent === true;
  if (!state) return { enabled: false, kind: null, shortPinAllowed, reminderDue: false, nextReminderAt: null };
  const kind = 'kind' in state ? state.kind : 'pin';
  return { enabled: true, kind, shortPinAllowed, reminderDue: reminderDue(state, ctx.deps.now()), nextReminderAt: state.nextReminderAt };
}

/**
 * The reminder: respaces the next reminder after the entry. A passphrase or recovery key is
 * checked locally (no realm guess); a short PIN is checked with the realms, where a wrong entry
 * costs an attempt (the answer says so) and a right one resets every counter.
 */
export async function checkPinReminder(ctx: EngineContext, input: string): Promise<{ correct: boolean; status: PinStatus; problem?: RecoveryProblem }> {
  const me = requireMe(ctx);
  const state = await loadPinState(ctx);
  if (!state) fail('InvalidArgument', 'recovery is off');
  let correct = false;
  let problem: RecoveryProblem | undefined;
  if (state.verifier && state.localSalt) {
    try {
      correct = bytesEqual(localVerifier(ctx, input, me.username, state.localSalt), state.verifier);
    } catch {
      correct = false; // a secret that does not even normalise is simply wrong
    }
  } else {
    const rc = requireRecovery(ctx);
    const outcome = await recoverWithPin(
      { username: me.username, realms: rc.realms, threshold: rc.threshold, pin: canonicalRecoverySecret(input) },
      ctx.deps,
      rc.fetch,
      rc.stretch ? { stretch: rc.stretch } : {}
    );
    if ('ok' in outcome) {
      correct = bytesEqual(deriveRecoveryKeys(outcome.ok, me.username, rc.realms).accessKey, state.keys.accessKey);
      wipe(outcome.ok);
    } else problem = problemOf(outcome, rc.realms);
    // Not a verdict on the PIN: nothing changes in the schedule.
    if (problem && problem.status !== 'wrongPin') return { correct: false, status: await pinStatus(ctx), problem };
  }
  await savePin(ctx, { ...state, ...afterEntry(state, correct, ctx.deps.now()) });
  return { correct, status: await pinStatus(ctx), ...(problem ? { problem } : {}) };
}

/** Asks every realm how this account's backup stands (P38): wrong guesses, lost shares. */
export async function recoveryHealth(ctx: EngineContext): Promise<RecoveryHealth | null> {
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  if (!(await getPinState(ctx.vault))) return null;
  const standings = await realmStandings({ username: me.username, realms: rc.realms }, rc.fetch);
  const realms = standings.map((s, i) => ({ name: realmName(rc.realms[i]!), state: s.state, wrongGuesses: s.wrongGuesses, failingSince: s.failingSince, retryAfterMs: s.retryAfterMs }));
  const since = realms.map((r) => r.failingSince).filter((t): t is number => t !== null);
  return {
    realms,
    wrongGuesses: Math.max(0, ...realms.map((r) => r.wrongGuesses)),
    failingSince: since.length > 0 ? Math.min(...since) : null,
    lost: realms.filter((r) => r.state === 'destroyed' || r.state === 'none').map((r) => r.name),
    repairable: realms.filter((r) => r.state === 'registered').length >= rc.threshold
  };
}

/** Uploads the record again if recovery is on (contacts, verification or blocks changed). */
export async function refreshAccountRecord(ctx: EngineContext, lastDigest: string | undefined): Promise<string | undefined> {
  if (!ctx.me) return undefined;
  const state = await loadPinState(ctx);
  if (!state) return undefined;
  const digest = recordDigest(await buildAccountRecord(ctx));
  if (digest === lastDigest) return digest;
  return uploadAccountRecord(ctx, state);
}

/**
 * PIN recovery on an existing account (DESIGN.md §7, issue 5): set a PIN (strength-checked,
 * registered on the pinned realms), change it, turn recovery off, and the spaced reminders.
 *
 * The master secret never leaves this worker except sealed in the vault; realms get only what
 * the protocol sends them, the host only the sealed record and a key derived for it. Reminders
 * are checked against a LOCAL verifier (Argon2id of the PIN under a random local salt, sealed in
 * the vault), so practising the PIN never spends a realm guess.
 */
import { fail } from '../../../src/lib/codec/errors';
import { checkPinStrength } from '../../../src/lib/crypto/pin/normalize';
import { PROFILE_KEY_LEN } from '../../../src/lib/crypto/account-record';
import { stretchPin } from '../../../src/lib/crypto/pin/stretch';
import { sha256 } from '../../../src/lib/crypto/primitives';
import { bytesEqual } from '../../../src/lib/codec/bytes';
import { deletePinState, getPinState, getPreviousSecret, putPinState, putPreviousSecret, sealPinState, sealPreviousSecret, type PinState } from '../../storage/pin-repo';
import { commit } from '../../storage/vault';
import { hostAuth } from '../account';
import { requireMe, type EngineContext, type RecoveryConfig } from '../context';
import { changePin as changeRealmPin, deletePin, registerPin } from '../recovery/recovery';
import { buildAccountRecord, recordAccessKey, recordDigest, uploadAccountRecord } from './record';
import { afterEntry, firstReminder, reminderDue } from './reminder';
import { engineFail } from '../errors';
import type { Username } from '../../../src/lib/codec/username';
import type { PinStatus } from '../../../src/lib/vault/views';


export function requireRecovery(ctx: EngineContext): RecoveryConfig {
  if (!ctx.recovery) fail('NotInitialized', 'no PIN-recovery realms are configured');
  return ctx.recovery;
}

export function localVerifier(ctx: EngineContext, pin: string, username: Username, salt: Uint8Array): Uint8Array {
  const stretch = ctx.recovery?.stretch ?? stretchPin;
  return sha256(stretch(pin, username, salt).accessKey);
}

function requireStrong(pin: string): void {
  const s = checkPinStrength(pin);
  if (!s.ok) fail('InvalidArgument', s.reason);
}

async function savePin(ctx: EngineContext, state: PinState): Promise<void> {
  const sealed = await sealPinState(ctx.vault, state);
  await commit(ctx.vault, (tx) => putPinState(tx, sealed));
}

export async function setupPin(ctx: EngineContext, pin: string): Promise<PinStatus> {
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  requireStrong(pin);
  if (await getPinState(ctx.vault)) fail('InvalidArgument', 'a PIN is already set; change it instead');
  const opts = rc.stretch ? { stretch: rc.stretch } : {};
  const previousSecret = await getPreviousSecret(ctx.vault);
  const secret = await registerPin(
    { username: me.username, realms: rc.realms, threshold: rc.threshold, pin, ...(previousSecret ? { previousSecret } : {}) },
    ctx.deps,
    rc.fetch,
    opts
  );
  const localSalt = ctx.deps.rng(32);
  const now = ctx.deps.now();
  const state: PinState = {
    secret,
    registeredAt: now,
    localSalt,
    verifier: localVerifier(ctx, pin, me.username, localSalt),
    profileKey: ctx.deps.rng(PROFILE_KEY_LEN),
    ...firstReminder(now)
  };
  await savePin(ctx, state);
  await uploadAccountRecord(ctx, state);
  return pinStatus(ctx);
}

/** Same master secret (the record stays readable), new PIN on every realm. */
export async function changePin(ctx: EngineContext, pin: string): Promise<PinStatus> {
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  requireStrong(pin);
  const state = await getPinState(ctx.vault);
  if (!state) fail('InvalidArgument', 'no PIN is set');
  const opts = rc.stretch ? { stretch: rc.stretch } : {};
  await changeRealmPin({ username: me.username, realms: rc.realms, threshold: rc.threshold, pin, secret: state.secret }, ctx.deps, rc.fetch, opts);
  const localSalt = ctx.deps.rng(32);
  await savePin(ctx, { ...state, localSalt, verifier: localVerifier(ctx, pin, me.username, localSalt), ...firstReminder(ctx.deps.now()) });
  return pinStatus(ctx);
}

/** Turns recovery off: realms delete their shares, the host its record, this vault the secret. */
export async function disablePin(ctx: EngineContext): Promise<PinStatus> {
  const me = requireMe(ctx);
  const rc = requireRecovery(ctx);
  const state = await getPinState(ctx.vault);
  if (!state) return pinStatus(ctx);
  const r = await deletePin({ username: me.username, realms: rc.realms, secret: state.secret }, rc.fetch);
  if (r.failed > 0) engineFail('Unavailable', `${r.failed} of ${rc.realms.length} realms could not be reached; recovery is still on`);
  await ctx.transport.deleteAccountRecord?.(hostAuth(me), recordAccessKey(state.secret));
  const previous = await sealPreviousSecret(ctx.vault, state.secret);
  await commit(ctx.vault, async (tx) => {
    await deletePinState(tx);
    await putPreviousSecret(tx, previous);
  });
  return pinStatus(ctx);
}

export async function pinStatus(ctx: EngineContext): Promise<PinStatus> {
  requireMe(ctx);
  const state = await getPinState(ctx.vault);
  if (!state) return { enabled: false, reminderDue: false, nextReminderAt: null };
  return { enabled: true, reminderDue: reminderDue(state, ctx.deps.now()), nextReminderAt: state.nextReminderAt };
}

/** The reminder: checks the PIN locally (no realm guess) and respaces the next reminder. */
export async function checkPinReminder(ctx: EngineContext, pin: string): Promise<{ correct: boolean; status: PinStatus }> {
  const me = requireMe(ctx);
  const state = await getPinState(ctx.vault);
  if (!state) fail('InvalidArgument', 'no PIN is set');
  let correct: boolean;
  try {
    correct = bytesEqual(localVerifier(ctx, pin, me.username, state.localSalt), state.verifier);
  } catch {
    correct = false; // a PIN that does not even normalise is simply wrong
  }
  await savePin(ctx, { ...state, ...afterEntry(state, correct, ctx.deps.now()) });
  return { correct, status: await pinStatus(ctx) };
}

/** Uploads the record again if recovery is on (contacts, verification or blocks changed). */
export async function refreshAccountRecord(ctx: EngineContext, lastDigest: string | undefined): Promise<string | undefined> {
  const state = await getPinState(ctx.vault);
  if (!state || !ctx.me) return undefined;
  const digest = recordDigest(await buildAccountRecord(ctx, state));
  if (digest === lastDigest) return digest;
  return uploadAccountRecord(ctx, state);
}

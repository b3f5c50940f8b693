/**
 * The app lock's engine side (SECURITY.md P46; storage in workers/storage/app-lock-repo.ts, the
 * wrapping in src/lib/crypto/app-lock.ts): turning it on and off, the passphrase rule, unlocking
 * with the passphrase or a passkey's PRF output, passkeys and the idle time.
 *
 * Design: with the lock on, the vault's wrapping key is imported from a random lock key that is
 * stored only wrapped (Argon2id of the passphrase; HKDF of each passkey's PRF output). Turning it
 * on re-keys the vault away from the browser-stored CryptoKey, which is deleted; turning it off
 * re-keys to a new browser-stored CryptoKey. Unlocking unwraps the lock key, imports it as a
 * non-extractable key and wipes its bytes. Locking (engine.ts `lockNow`) drops every key.
 * A wrong passphrase or passkey is WrongPassphrase and changes nothing.
 *
 * Knows nothing of tabs, the socket or the page: the engine stops and resumes those.
 */
import { fail, isProtocolError } from '../../src/lib/codec/errors';
import {
  APP_LOCK_ARGON2,
  MIN_LOCK_GUESSES_LOG10,
  newLockKey,
  unwrapWithPasskey,
  unwrapWithPassphrase,
  wrapWithPasskey,
  wrapWithPassphrase,
  type Argon2Params
} from '../../src/lib/crypto/app-lock';
import { wipe } from '../../src/lib/crypto/primitives';
import type { LockPassphraseCheck, LockStatus } from '../../src/lib/vault/views';
import { APP_LOCK_KEY, getLockRow, importLockKey, rekeyVault, unlockVault, type AppLockRow } from '../storage/app-lock-repo';
import { getAccount } from '../storage/account-repo';
import { newWrapKey } from '../storage/seal';
import { assertUsable, moveAvatarsIfMarked } from '../storage/vault';
import type { EngineContext } from './context';
import { EngineError, engineFail } from './errors';
import { Meta, type Sealed } from '../storage/schema';
import { unseal } from '../storage/seal';
import { estimateGuessesLog10 } from './pin/strength';

/** Longest idle time a user may pick (a day); 0 turns auto-lock off. */
export const MAX_IDLE_MINUTES = 24 * 60;
const MAX_PASSKEYS = 8;
const MAX_PASSPHRASE = 1024;

/** The Argon2id cost to wrap with and the floor to unwrap at; tests pass a cheaper one. */
export type LockKdf = Argon2Params;
export const DEFAULT_LOCK_KDF: LockKdf = APP_LOCK_ARGON2;

export interface NewPasskey {
  credentialId: Uint8Array;
  prfSalt: Uint8Array;
  /** The authenticator's PRF output for `prfSalt` (WebAuthn `prf` extension, `results.first`). */
  prfOutput: Uint8Array;
}

export async function lockStatus(ctx: EngineContext): Promise<LockStatus> {
  const row = await getLockRow(ctx.vault);
  const account = await getAccount(ctx.vault);
  return {
    enabled: !!row,
    locked: ctx.vault.locked === true,
    idleMinutes: row?.idleMinutes ?? 0,
    passkeys: (row?.passkeys ?? []).map((p) => ({ credentialId: p.credentialId, prfSalt: p.prfSalt })),
    ...(account ? { username: account.username } : {})
  };
}

/** P46: a lock passphrase must resist an offline search of a copied profile (crypto/app-lock.ts). */
export async function checkLockPassphrase(ctx: EngineContext, passphrase: string): Promise<LockPassphraseCheck> {
  if (passphrase.length > MAX_PASSPHRASE) return { ok: false, reason: `Use at most ${MAX_PASSPHRASE} characters.` };
  const log10 = await estimateGuessesLog10(passphrase, ctx.me ? [ctx.me.username] : []);
  if (log10 >= MIN_LOCK_GUESSES_LOG10) return { ok: true };
  return {
    ok: false,
    reason:
      'Too easy to guess for a lock: someone with a copy of this browser could try it offline. ' +
      'Use several unusual words (four or more), not a name, date or common phrase.'
  };
}

function checkIdle(minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_IDLE_MINUTES) fail('InvalidArgument', `an idle time of ${minutes} minutes`);
  return minutes;
}

async function requireRow(ctx: EngineContext): Promise<AppLockRow> {
  const row = await getLockRow(ctx.vault);
  if (!row) fail('InvalidArgument', 'the app lock is off');
  return row;
}

/** The lock key from the passphrase; WrongPassphrase if it does not open (nothing changes). */
function lockKeyFrom(ctx: EngineContext, row: AppLockRow, passphrase: string, kdf: LockKdf): Uint8Array {
  try {
    return unwrapWithPassphrase(ctx.vault.name, row.passphrase, passphrase, kdf);
  } catch (e) {
    if (isProtocolError(e) && e.code === 'InvalidMac') engineFail('WrongPassphrase', 'the passphrase does not open the lock');
    throw e;
  }
}

/**
 * Turns the lock on: the vault is re-keyed to a key only the passphrase opens, and the data key
 * is rotated (P46). `beforeRekey` runs right before the re-keying starts (the engine tells the
 * other tabs to lock while they can still read its sealed message).
 */
export async function enableLock(ctx: EngineContext, passphrase: string, idleMinutes: number, kdf: LockKdf, beforeRekey: () => void = () => {}): Promise<void> {
  assertUsable(ctx.vault);
  if (await getLockRow(ctx.vault)) fail('InvalidArgument', 'the app lock is already on');
  const check = await checkLockPassphrase(ctx, passphrase);
  if (!check.ok) fail('InvalidArgument', check.reason);
  const lockKey = newLockKey(ctx.deps);
  try {
    const row: AppLockRow = { v: 1, passphrase: wrapWithPassphrase(ctx.vault.name, lockKey, passphrase, kdf, ctx.deps), passkeys: [], idleMinutes: checkIdle(idleMinutes) };
    const key = await importLockKey(lockKey);
    beforeRekey();
    await rekeyVault(ctx.vault, key, { lock: row, rotateDataKey: true });
  } finally {
    wipe(lockKey);
  }
}

/** Turns the lock off (the passphrase is asked again): re-keyed to a new browser-stored key. */
export async function disableLock(ctx: EngineContext, passphrase: string, kdf: LockKdf, beforeRekey: () => void = () => {}): Promise<void> {
  assertUsable(ctx.vault);
  wipe(lockKeyFrom(ctx, await requireRow(ctx), passphrase, kdf));
  const wrap = await newWrapKey();
  beforeRekey();
  await rekeyVault(ctx.vault, wrap, { wrapKey: wrap });
}

export async function setIdleMinutes(ctx: EngineContext, minutes: number): Promise<void> {
  assertUsable(ctx.vault);
  const row = await requireRow(ctx);
  const next: AppLockRow = { ...row, idleMinutes: checkIdle(minutes) };
  await ctx.vault.db.put('meta', next, APP_LOCK_KEY);
}

async function openWith(ctx: EngineContext, lockKey: Uint8Array): Promise<void> {
  try {
    await unlockVault(ctx.vault, await importLockKey(lockKey));
  } finally {
    wipe(lockKey);
  }
  // A move the load could not run while locked (vault.ts).
  await moveAvatarsIfMarked(ctx.vault);
}

/** Unlocks this worker's vault with the passphrase. */
export async function unlockWithPassphrase(ctx: EngineContext, passphrase: string, kdf: LockKdf): Promise<void> {
  await openWith(ctx, lockKeyFrom(ctx, await requireRow(ctx), passphrase, kdf));
}

/** Unlocks with a passkey's PRF output for the credential it names. */
export async function unlockWithPasskey(ctx: EngineContext, credentialId: Uint8Array, prfOutput: Uint8Array): Promise<void> {
  const row = await requireRow(ctx);
  const wrap = row.passkeys.find((p) => sameBytes(p.credentialId, credentialId));
  if (!wrap) engineFail('WrongPassphrase', 'that passkey was not added to this lock');
  let lockKey: Uint8Array;
  try {
    lockKey = unwrapWithPasskey(ctx.vault.name, wrap, prfOutput);
  } catch (e) {
    if (isProtocolError(e)) engineFail('WrongPassphrase', 'the passkey does not open the lock');
    throw e;
  }
  await openWith(ctx, lockKey);
}

/** Adds (or replaces) a passkey that can unlock: the passphrase opens the lock key to wrap it. */
export async function addPasskey(ctx: EngineContext, passphrase: string, kdf: LockKdf, p: NewPasskey): Promise<void> {
  assertUsable(ctx.vault);
  const row = await requireRow(ctx);
  const others = row.passkeys.filter((k) => !sameBytes(k.credentialId, p.credentialId));
  if (others.length >= MAX_PASSKEYS) fail('InvalidArgument', `at most ${MAX_PASSKEYS} passkeys`);
  const lockKey = lockKeyFrom(ctx, row, passphrase, kdf);
  try {
    const wrap = wrapWithPasskey(ctx.vault.name, lockKey, p.prfOutput, { credentialId: p.credentialId, prfSalt: p.prfSalt }, ctx.deps);
    await ctx.vault.db.put('meta', { ...row, passkeys: [...others, wrap] } satisfies AppLockRow, APP_LOCK_KEY);
  } finally {
    wipe(lockKey);
  }
}

export async function removePasskeys(ctx: EngineContext): Promise<void> {
  assertUsable(ctx.vault);
  const row = await requireRow(ctx);
  await ctx.vault.db.put('meta', { ...row, passkeys: [] } satisfies AppLockRow, APP_LOCK_KEY);
}

/** True while this worker's key still opens the stored data key (another tab may have re-keyed). */
export async function keyStillOpens(ctx: EngineContext): Promise<boolean> {
  if (ctx.vault.locked) return false;
  const sealed = (await ctx.vault.db.get('meta', Meta.dataKey)) as Sealed | undefined;
  if (!sealed) return false;
  try {
    wipe(await unseal(ctx.vault.key, sealed));
    return true;
  } catch {
    return false;
  }
}

/** After another tab turned the lock off: the vault opens with the browser-stored key again. */
export async function reopenWithStoredKey(ctx: EngineContext): Promise<boolean> {
  if (await getLockRow(ctx.vault)) return false;
  const key = (await ctx.vault.db.get('meta', Meta.wrapKey)) as CryptoKey | undefined;
  if (!key) return false;
  await unlockVault(ctx.vault, key);
  await moveAvatarsIfMarked(ctx.vault);
  return true;
}

/** How long Remove waits for other tabs to close the database (they close on `versionchange`). */
const DELETE_WAIT_MS = 10_000;

/** Deletes the vault's database (the caller closed its own connection first). */
export function deleteVaultDatabase(name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = globalThis.indexedDB.deleteDatabase(name);
    const timer = setTimeout(() => reject(new EngineError('Unavailable', 'another Parley tab keeps the database open; close it and try again')), DELETE_WAIT_MS);
    req.onsuccess = () => (clearTimeout(timer), resolve());
    req.onerror = () => (clearTimeout(timer), reject(new EngineError('Unavailable', 'the browser refused to delete the database')));
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

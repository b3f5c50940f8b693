/**
 * The app lock at rest (SECURITY.md P46, DESIGN.md §8). Without the lock, the vault's wrapping key
 * is a non-extractable WebCrypto key stored in the `meta` store: its bytes cannot be read by
 * script, but the browser keeps it on disk with the profile, so a copy of the profile opens the
 * vault. With the lock on, no wrapping key is stored: the vault's key is imported (non-extractable)
 * from a random LOCK KEY that exists on disk only wrapped under the passphrase (and passkeys),
 * src/lib/crypto/app-lock.ts, in the clear `appLock` meta row.
 *
 * Turning the lock on or off RE-KEYS the vault: every record sealed under the wrapping key (the
 * AES-GCM ones, 12-byte IV: identity, data key, device secret, PIN state, legacy sessions, and
 * private prekeys written before they moved to the data key) is opened with the old key and
 * sealed with the new one before, and written in, ONE transaction that also swaps `wrapKey` for
 * `appLock` (or back). Turning the lock ON also rotates
 * the data key in that transaction (record-seal.ts `resealRows`): a copy of the profile taken
 * before the lock holds the old browser key and so the old data key, which must not open the
 * rows written afterwards. (The identity key is the account's and is not rotated.)
 *
 * Locking drops the keys from this worker (`lockVault`): the data key is zeroed and unbound, the
 * decoded-session cache is cleared and the vault's key replaced by a throw-away key that opens
 * nothing; `vault.locked` makes every commit fail with Locked. Knows nothing of the engine.
 */
import type { PasskeyWrap, PassphraseWrap } from '../../src/lib/crypto/app-lock';
import { forgetSessions } from './session-repo';
import { forgetPreKeys } from './prekey-repo';
import { forgetOpenedIndex } from './search-cache';
import { forgetGroupHistories } from './group-repo';
import { bindDataKey, DATA_KEY_LEN, resealRows, unbindDataKey } from './record-seal';
import { ALL_STORES, Meta, type Sealed, type Vault } from './schema';
import { newWrapKey, seal, unseal } from './seal';
import { engineFail } from '../engine/errors';

export const APP_LOCK_KEY = 'appLock';

/** The clear `appLock` row: nothing in it opens anything without the passphrase or a passkey. */
export interface AppLockRow {
  v: 1;
  passphrase: PassphraseWrap;
  passkeys: PasskeyWrap[];
  /** Auto-lock after this many idle minutes; 0 = only "Lock now" and closing the tab lock. */
  idleMinutes: number;
}

export async function getLockRow(vault: Vault): Promise<AppLockRow | undefined> {
  const row = (await vault.db.get('meta', APP_LOCK_KEY)) as AppLockRow | undefined;
  return row?.v === 1 ? row : undefined;
}

/** The vault key from a lock key: AES-256-GCM, non-extractable; the caller wipes `lockKey`. */
export function importLockKey(lockKey: Uint8Array): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('raw', lockKey as BufferSource, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** A throw-away key that opens nothing: what a locked vault holds in place of its key. */
const nothingKey = (): Promise<CryptoKey> => newWrapKey();

function isWrapSealed(v: unknown): v is Sealed {
  const s = v as Sealed | null;
  return typeof s === 'object' && s !== null && s.iv instanceof Uint8Array && s.iv.length === 12 && s.ct instanceof Uint8Array;
}

/** The stores that hold wrap-key records. */
type WrapStore = 'meta' | 'prekeys' | 'legacySessions';

interface Resealed {
  store: WrapStore;
  key: string;
  before: Uint8Array;
  value: unknown;
}

/** Opens every wrap-key record with `from` and seals it with `to` (async, before the transaction). */
async function resealAll(vault: Vault, from: CryptoKey, to: CryptoKey): Promise<Resealed[]> {
  const out: Resealed[] = [];
  const again = async (s: Sealed) => seal(to, await unseal(from, s));
  const tx = vault.db.transaction(['meta', 'prekeys', 'legacySessions'], 'readonly');
  const metaKeys = await tx.objectStore('meta').getAllKeys();
  const metaVals = await tx.objectStore('meta').getAll();
  const prekeys = await tx.objectStore('prekeys').getAll();
  const legacy = await tx.objectStore('legacySessions').getAll();
  await tx.done;
  for (let i = 0; i < metaKeys.length; i++) {
    const v = metaVals[i];
    if (isWrapSealed(v)) out.push({ store: 'meta', key: String(metaKeys[i]), before: v.iv, value: await again(v) });
  }
  // Prekeys written since they moved to the data key are resealed with the rows (resealRows).
  for (const p of prekeys.filter((r) => isWrapSealed(r.sealed))) out.push({ store: 'prekeys', key: p.key, before: p.sealed.iv, value: { ...p, sealed: await again(p.sealed) } });
  for (const l of legacy) {
    const sealed: Sealed[] = [];
    for (const s of l.sealed) sealed.push(await again(s));
    out.push({ store: 'legacySessions', key: l.username, before: l.sealed[0]?.iv ?? new Uint8Array(0), value: { ...l, sealed } });
  }
  return out;
}

function sameIv(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Re-keys the vault from `vault.key` to `to` and applies `swap` (the meta rows that say which key
 * is in use) in the same transaction. If a record changed since it was read (another tab wrote),
 * it starts over; the old key stays in use until the transaction commits.
 */
export async function rekeyVault(vault: Vault, to: CryptoKey, swap: { wrapKey?: CryptoKey; lock?: AppLockRow; rotateDataKey?: boolean }): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const resealed = await resealAll(vault, vault.key, to);
    const nextData = swap.rotateDataKey ? globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_LEN)) : undefined;
    const sealedNextData = nextData ? await seal(to, nextData) : undefined;
    const tx = vault.db.transaction(ALL_STORES, 'readwrite');
    let raced = false;
    for (const r of resealed) {
      const now = (await tx.objectStore(r.store).get(r.key)) as { iv?: Uint8Array; sealed?: Sealed | Sealed[] } | undefined;
      const iv = r.store === 'meta' ? now?.iv : Array.isArray(now?.sealed) ? now.sealed[0]?.iv : (now?.sealed as Sealed | undefined)?.iv;
      if (!sameIv(iv, r.before) && !(r.store === 'legacySessions' && r.before.length === 0)) raced = true;
    }
    // A record added since (a refill's prekeys, a first PIN state) would be left under the old key.
    const sealedMeta = (await tx.objectStore('meta').getAll()).filter(isWrapSealed).length;
    const count = (store: WrapStore) => resealed.filter((r) => r.store === store).length;
    const wrapPreKeys = (await tx.objectStore('prekeys').getAll()).filter((r) => isWrapSealed(r.sealed)).length;
    if (sealedMeta !== count('meta') || wrapPreKeys !== count('prekeys')) raced = true;
    if ((await tx.objectStore('legacySessions').count()) !== count('legacySessions')) raced = true;
    if (raced) {
      nextData?.fill(0);
      tx.abort();
      await tx.done.catch(() => undefined);
      continue;
    }
    for (const r of resealed) {
      // meta keys rows out of line; prekeys and legacySessions by their key path.
      if (r.store === 'meta') await tx.objectStore('meta').put(r.value, r.key);
      else await tx.objectStore(r.store).put(r.value as never);
    }
    const meta = tx.objectStore('meta');
    if (nextData && sealedNextData) {
      await resealRows(tx, nextData);
      await meta.put(sealedNextData, Meta.dataKey);
    }
    if (swap.wrapKey) await meta.put(swap.wrapKey, Meta.wrapKey);
    else await meta.delete(Meta.wrapKey);
    if (swap.lock) await meta.put(swap.lock, APP_LOCK_KEY);
    else await meta.delete(APP_LOCK_KEY);
    await tx.done;
    forgetSessions(vault.db);
    forgetPreKeys(vault);
    if (nextData) {
      unbindDataKey(vault.db);
      bindDataKey(vault.db, nextData);
    }
    vault.key = to;
    return;
  }
  engineFail('Unavailable', 'the vault kept changing while it was re-keyed; try again');
}

/** Drops every key this vault holds in memory (P46): what remains opens nothing. */
export async function lockVault(vault: Vault): Promise<void> {
  unbindDataKey(vault.db);
  forgetSessions(vault.db);
  forgetPreKeys(vault);
  forgetOpenedIndex(vault.db);
  forgetGroupHistories();
  vault.key = await nothingKey();
  vault.locked = true;
}

/**
 * Opens a locked vault with `key` (from the lock key): the data key and the identity must open
 * under it, else the lock row and the vault disagree (StorageLost, P33), and it stays locked.
 */
export async function unlockVault(vault: Vault, key: CryptoKey): Promise<void> {
  const sealedData = (await vault.db.get('meta', Meta.dataKey)) as Sealed | undefined;
  const identity = (await vault.db.get('meta', Meta.identity)) as Sealed | undefined;
  if (!sealedData) engineFail('StorageLost', 'the locked vault has no data key');
  if (identity) await unseal(key, identity);
  const dataKey = await unseal(key, sealedData);
  if (dataKey.length !== DATA_KEY_LEN) engineFail('StorageLost', `the data key has ${dataKey.length} bytes`);
  bindDataKey(vault.db, dataKey);
  vault.key = key;
  delete vault.locked;
}

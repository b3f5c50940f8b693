/**
 * The open vault: the database plus its keys, and the one way to write — `commit`, a single
 * readwrite transaction over every store. Callers do all async work (crypto, sealing, network)
 * first and pass a SYNCHRONOUS-ONLY body of IDB requests: awaiting anything else inside an IDB
 * transaction lets it auto-commit half-done (DESIGN.md §3 `idb` note).
 *
 * Opening also decides whether the vault is usable (DESIGN.md §8, SECURITY.md P33): if the
 * wrapping key, the data key or the identity is gone — or does not open — while account data
 * remains (eviction, a partial clear), the vault is LOST. A lost vault is never repaired by
 * making new keys or a new identity: every write fails with StorageLost until the user restores
 * or explicitly resets (`resetVault`). A vault with the app lock on (P46) stores no wrapping key
 * by design: it opens LOCKED, holding no key, until app-lock-repo.ts `unlockVault`.
 * Knows nothing of the protocol or the host.
 */
import { fail } from '../../src/lib/codec/errors';
import { initSodium } from '../../src/lib/crypto/sodium';
import { migrateClearRows } from './migrate';
import { moveInlineAvatars } from './contact-repo';
import { applyLegacySessions, prepareLegacySessions } from './session-migrate';
import { forgetSessions } from './session-repo';
import { forgetPreKeys } from './prekey-repo';
import { bindDataKey, DATA_KEY_LEN, unbindDataKey } from './record-seal';
import { ALL_STORES, Meta, openVault, type Sealed, type Tx, type Vault, type VaultDb } from './schema';
import { newWrapKey, seal, unseal } from './seal';
import { APP_LOCK_KEY } from './app-lock-repo';
import { engineFail } from '../engine/errors';
import { forgetOpenedIndex } from './search-cache';
import { BACKFILL_GROUPS_META, BACKFILL_META } from './search-repo';

export type { Vault };

/** Stores whose rows are account data (everything except meta). */
const DATA_STORES = ALL_STORES.filter((s) => s !== 'meta');

interface Found {
  wrap?: CryptoKey;
  /** The app lock is on (app-lock-repo.ts): no wrapping key is stored, by design. */
  locked: boolean;
  dataKey?: Sealed;
  identity?: Sealed;
  account: boolean;
  migrate: boolean;
  migrateSessions: boolean;
  /** Rows in the non-meta stores. */
  rows: number;
}

async function inspect(db: VaultDb): Promise<Found> {
  const tx = db.transaction(ALL_STORES, 'readonly');
  const meta = tx.objectStore('meta');
  const found: Found = {
    wrap: (await meta.get(Meta.wrapKey)) as CryptoKey | undefined,
    locked: (await meta.get(APP_LOCK_KEY)) !== undefined,
    dataKey: (await meta.get(Meta.dataKey)) as Sealed | undefined,
    identity: (await meta.get(Meta.identity)) as Sealed | undefined,
    account: (await meta.get(Meta.account)) !== undefined,
    migrate: (await meta.get(Meta.migrateRows)) === true,
    migrateSessions: (await meta.get(Meta.migrateSessions)) === true,
    rows: 0
  };
  for (const s of DATA_STORES) found.rows += await tx.objectStore(s).count();
  await tx.done;
  return found;
}

/** The P33 decision on what is stored, before anything is opened. */
function missingReason(f: Found): string | undefined {
  if (f.locked) return f.dataKey && f.identity && f.account ? undefined : 'the locked vault lacks its data key, identity or account';
  if (!f.wrap) {
    if (f.account || f.identity || f.dataKey || f.rows > 0) return 'the vault key is gone while account data remains';
    return undefined;
  }
  if (!f.identity && (f.account || f.rows > 0)) return 'the identity is gone while account data remains';
  if (f.identity && !f.account) return 'the account record is gone while the identity remains';
  // v1 vaults (marked for migration) legitimately have clear rows and no data key yet.
  if (!f.dataKey && f.rows > 0 && !f.migrate) return 'the data key is gone while account data remains';
  return undefined;
}

function lostVault(db: VaultDb, name: string, reason: string, key: CryptoKey): Vault {
  unbindDataKey(db);
  return { db, key, name, lost: reason };
}

/** Creates what is missing of {wrapping key, data key}, unless another tab just did. */
async function createKeys(db: VaultDb, f: Found): Promise<void> {
  const wrap = f.wrap ?? (await newWrapKey());
  const dataKey = globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_LEN));
  const sealed = await seal(wrap, dataKey);
  const tx = db.transaction('meta', 'readwrite');
  const raced = (await tx.store.get(Meta.dataKey)) !== undefined || (!f.wrap && (await tx.store.get(Meta.wrapKey)) !== undefined);
  if (!raced) {
    if (!f.wrap) await tx.store.put(wrap, Meta.wrapKey);
    await tx.store.put(sealed, Meta.dataKey);
    // A vault with no rows has no history from before the search index to walk (search.ts).
    if (f.rows === 0) for (const k of [BACKFILL_META, BACKFILL_GROUPS_META]) await tx.store.put({ done: true }, k);
  }
  await tx.done;
}

export async function loadVault(name: string): Promise<Vault> {
  await initSodium();
  const db = await openVault(name);
  for (let attempt = 0; ; attempt++) {
    const f = await inspect(db);
    const reason = missingReason(f);
    if (reason) return lostVault(db, name, reason, f.wrap ?? (await newWrapKey()));
    // P46: nothing here opens it; the engine unlocks it with the passphrase or a passkey.
    if (f.locked) return { db, key: await newWrapKey(), name, locked: true };
    if (!f.wrap || !f.dataKey) {
      if (attempt >= 3) fail('Internal', 'vault keys kept changing while opening');
      // Then look again: whether we or a racing tab wrote them, the stored ones are used.
      await createKeys(db, f);
      continue;
    }
    let dataKey: Uint8Array;
    try {
      if (f.identity) await unseal(f.wrap, f.identity);
      dataKey = await unseal(f.wrap, f.dataKey);
    } catch {
      return lostVault(db, name, 'a sealed key record does not open', f.wrap);
    }
    if (dataKey.length !== DATA_KEY_LEN) return lostVault(db, name, `the data key has ${dataKey.length} bytes`, f.wrap);
    bindDataKey(db, dataKey);
    const vault: Vault = { db, key: f.wrap, name };
    if (f.migrate) await commit(vault, migrateClearRows);
    if (f.migrateSessions) {
      const legacy = await prepareLegacySessions(vault);
      await commit(vault, (tx) => applyLegacySessions(tx, legacy));
      // Whichever tab converted them, the next read goes to what is stored.
      forgetSessions(db);
    }
    await moveAvatarsIfMarked(vault);
    return vault;
  }
}

/**
 * Schema 7's move of contacts' pictures out of their rows (contact-repo.ts), once, on an open
 * vault (at load, or after the app lock's unlock): one transaction, the mark cleared in it, so a
 * crash leaves the mark and a second tab finding it cleared writes nothing. Until it runs, rows
 * that still hold a picture read as before.
 */
export async function moveAvatarsIfMarked(vault: Vault): Promise<number> {
  if ((await vault.db.get('meta', Meta.moveAvatars)) !== true) return 0;
  return commit(vault, async (tx) => {
    const meta = tx.objectStore('meta');
    if ((await meta.get(Meta.moveAvatars)) !== true) return 0;
    const moved = await moveInlineAvatars(tx);
    await meta.delete(Meta.moveAvatars);
    return moved;
  });
}

/** Throws StorageLost while the vault is lost (P33): nothing may be written or created. */
export function assertUsable(vault: Vault): void {
  if (vault.lost) engineFail('StorageLost', `local storage was lost: ${vault.lost}`);
  if (vault.locked) engineFail('Locked', 'the app is locked');
}

/**
 * The user's explicit "erase this device" (the way out of a lost vault when there is nothing to
 * restore): every store is cleared and new keys are made, in one transaction.
 */
export async function resetVault(vault: Vault): Promise<void> {
  const wrap = await newWrapKey();
  const dataKey = globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_LEN));
  const sealed = await seal(wrap, dataKey);
  const tx = vault.db.transaction(ALL_STORES, 'readwrite');
  for (const s of ALL_STORES) await tx.objectStore(s).clear();
  await tx.objectStore('meta').put(wrap, Meta.wrapKey);
  await tx.objectStore('meta').put(sealed, Meta.dataKey);
  await tx.done;
  forgetSessions(vault.db);
  forgetOpenedIndex(vault.db);
  forgetPreKeys(vault);
  unbindDataKey(vault.db);
  bindDataKey(vault.db, dataKey);
  vault.key = wrap;
  delete vault.lost;
  delete vault.locked;
}

/**
 * Runs `body` in one readwrite transaction and resolves when it is durable. `body` may await
 * only IDB requests of `tx`. If it throws, the transaction is aborted and nothing is written.
 */
export async function commit<T>(vault: Vault, body: (tx: Tx) => Promise<T>): Promise<T> {
  assertUsable(vault);
  const tx = vault.db.transaction(ALL_STORES, 'readwrite');
  let result: T;
  try {
    result = await body(tx);
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // already finished
    }
    await tx.done.catch(() => undefined);
    throw e;
  }
  await tx.done;
  return result;
}

/**
 * The open vault: the database plus its wrapping key, and the one way to write — `commit`, a
 * single readwrite transaction over every store. Callers do all async work (crypto, sealing,
 * network) first and pass a SYNCHRONOUS-ONLY body of IDB requests: awaiting anything else inside
 * an IDB transaction lets it auto-commit half-done (DESIGN.md §3 `idb` note).
 */
import { ALL_STORES, openVault, type Tx, type VaultDb } from './schema';
import { wrapKey } from './seal';

export interface Vault {
  db: VaultDb;
  key: CryptoKey;
  name: string;
}

export async function loadVault(name: string): Promise<Vault> {
  const db = await openVault(name);
  return { db, key: await wrapKey(db), name };
}

/**
 * Runs `body` in one readwrite transaction and resolves when it is durable. `body` may await
 * only IDB requests of `tx`. If it throws, the transaction is aborted and nothing is written.
 */
export async function commit<T>(vault: Vault, body: (tx: Tx) => Promise<T>): Promise<T> {
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

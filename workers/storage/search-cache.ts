/**
 * The search index opened in the vault worker's memory (README "Search"; SECURITY.md P32, P46).
 *
 * A search needs every entry of the sealed index (search-repo.ts). Reading its BUCKETS rows from
 * IndexedDB and comparing them costs tens of milliseconds in a browser, every query; so the
 * opened entries are kept per database connection, sorted newest first, together with the
 * index's stamp (the clear random meta row `searchStamp` that every bucket write renews in its
 * own transaction). A search reads only the stamp: unchanged, the kept entries are exactly what is
 * on disk — whichever tab wrote last — and nothing else is read; changed (or absent, as in a vault
 * written by an older build), the buckets are read in the same read transaction and only those
 * whose nonce changed are opened again.
 *
 * Nothing here is written to disk. The kept entries are plaintext tokens, so the vault's lock
 * drops them with the data key (P46: `forgetOpenedIndex`), and a load that finds the vault locked
 * keeps nothing. Knows nothing of queries.
 */
import { unwrap } from 'idb';
import { engineFail } from '../engine/errors';
import { openBucket, SEARCH_STAMP, SEARCH_STORE, type IndexEntry } from './search-repo';
import type { Vault, VaultDb } from './schema';

interface Opened {
  /** The stamp the entries were read under (undefined: none was stored, never trusted). */
  stamp: string | undefined;
  /** Each bucket with the nonce it was sealed under (a rewrite seals under a fresh one). */
  buckets: Map<string, { iv: Uint8Array; entries: IndexEntry[] }>;
  /** Every entry, newest first (sentAt, then key, descending). */
  all: readonly IndexEntry[];
}

const opened = new WeakMap<IDBDatabase, Opened>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The order a search answers in: newest first; the same time, the greater key first. */
export function newestFirst(a: IndexEntry, b: IndexEntry): number {
  return b.t - a.t || (a.k < b.k ? 1 : a.k > b.k ? -1 : 0);
}

/** Forgets the opened index of `db` (the vault locks, P46: no plaintext of it stays in memory). */
export function forgetOpenedIndex(db: VaultDb): void {
  opened.delete(unwrap(db));
}

/** Whether `db` holds an opened index (for the lock's tests: P46). */
export function hasOpenedIndex(db: VaultDb): boolean {
  return opened.has(unwrap(db));
}

/**
 * Every entry of the index as it is on disk now, newest first. Read-only: the array is shared
 * with the next search until the index changes.
 */
export async function loadEntries(vault: Vault): Promise<readonly IndexEntry[]> {
  const raw = unwrap(vault.db);
  const tx = vault.db.transaction(['meta', SEARCH_STORE], 'readonly');
  const stamp = (await tx.objectStore('meta').get(SEARCH_STAMP)) as string | undefined;
  const kept = opened.get(raw);
  if (kept && stamp !== undefined && kept.stamp === stamp && !vault.locked) {
    await tx.done;
    return kept.all;
  }
  const rows = await tx.objectStore(SEARCH_STORE).getAll();
  await tx.done;
  // Read after the awaits: a lock meanwhile dropped what was kept, and must not see it come back.
  if (vault.locked) engineFail('Locked', 'the app is locked');
  const before = opened.get(raw)?.buckets;
  const buckets = new Map<string, { iv: Uint8Array; entries: IndexEntry[] }>();
  for (const row of rows) {
    const known = before?.get(row.id);
    buckets.set(row.id, known && sameBytes(known.iv, row.sealed.iv) ? known : { iv: row.sealed.iv, entries: openBucket(vault.db, row) });
  }
  const all = [...buckets.values()].flatMap((b) => b.entries).sort(newestFirst);
  opened.set(raw, { stamp, buckets, all });
  return all;
}

/**
 * The sealed search index at rest (README "Search"; SECURITY.md P32, P44, P46).
 *
 * A forward index: each searchable message has one entry `{ message key, chat, sentAt, tokens }`
 * (tokens from search-text.ts), and entries live in BUCKETS rows chosen by a hash of the message
 * key. Each row is sealed whole under the vault's data key like every user row (record-seal.ts,
 * AD = store and bucket id), so a dump shows bucket ids and sealed sizes, never a token, and the
 * app lock's data key rotation (P46) re-seals it with the rest (`SEALED_ROW_KEYS`). Buckets keep
 * each write small (an entry changes by rewriting one bucket of about 1/BUCKETS of the index)
 * while a search opens BUCKETS rows in one read.
 *
 * Writes happen inside the message's own transaction: `putMessage` re-indexes the row it writes
 * and `deleteMessage` forgets it (message-repo.ts), so a path that changes or removes a message
 * row cannot leave its old words here (P44). Knows nothing of queries or the engine.
 */
import { unwrap } from 'idb';
import { sealJson, openJson, type Conn } from './record-seal';
import { tokens } from './search-text';
import type { MessageRecord, MessageRow, SearchRow, Tx, Vault, VaultDb } from './schema';

export const SEARCH_STORE = 'searchIndex';
/** Rows the index is spread over: 10 000 messages make buckets of about 40 entries (a few KB). */
export const BUCKETS = 256;

/** One searchable message. Short field names: the bucket is sealed JSON. */
export interface IndexEntry {
  /** The message's key in the `messages` store. */
  k: string;
  /** The chat (the person's username). */
  c: string;
  /** Its sort time (`sentAt`). */
  t: number;
  /** Its distinct tokens. */
  w: string[];
}

interface Bucket {
  e: IndexEntry[];
}

/** The bucket of a message key: FNV-1a 32 of its UTF-16 code units, mod BUCKETS. */
export function bucketOf(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `b${((h >>> 0) % BUCKETS).toString(16).padStart(2, '0')}`;
}

/** What the index keeps of a message, or undefined for one with nothing to find (notices, tombstones, empty). */
export function entryOf(m: MessageRecord): IndexEntry | undefined {
  if (m.direction === 'system' || m.extras?.deleted) return undefined;
  // A file is found by its name as well as its caption.
  const w = tokens(m.attachment ? `${m.body}\n${m.attachment.name}` : m.body);
  return w.length === 0 ? undefined : { k: m.key, c: m.username, t: m.sentAt, w };
}

function openBucket(c: Conn, row: SearchRow | undefined): IndexEntry[] {
  return row ? openJson<Bucket>(c, SEARCH_STORE, row.id, row.sealed).e : [];
}

async function writeBucket(tx: Tx, id: string, entries: IndexEntry[]): Promise<void> {
  const store = tx.objectStore(SEARCH_STORE);
  if (entries.length === 0) await store.delete(id);
  else await store.put({ id, sealed: sealJson(tx, SEARCH_STORE, id, { e: entries } satisfies Bucket) });
}

function sameEntry(a: IndexEntry, b: IndexEntry): boolean {
  return a.c === b.c && a.t === b.t && a.w.length === b.w.length && a.w.every((t, i) => t === b.w[i]);
}

/**
 * Brings the index in line with `m` as it is being written (inside its transaction): adds it,
 * replaces its old words (an edit), or forgets it (deleted for everyone, nothing left to find).
 * A write that changes none of its words (a status, a reaction) rewrites nothing.
 */
export async function indexMessage(tx: Tx, m: MessageRecord): Promise<void> {
  const id = bucketOf(m.key);
  const entries = openBucket(tx, await tx.objectStore(SEARCH_STORE).get(id));
  const at = entries.findIndex((e) => e.k === m.key);
  const next = entryOf(m);
  if (next && at >= 0 && sameEntry(entries[at]!, next)) return;
  if (!next && at < 0) return;
  if (at >= 0) entries.splice(at, 1);
  if (next) entries.push(next);
  await writeBucket(tx, id, entries);
}

/** Forgets the message `key` (its row is being deleted in `tx`, P44). */
export async function forgetMessage(tx: Tx, key: string): Promise<void> {
  const id = bucketOf(key);
  const row = await tx.objectStore(SEARCH_STORE).get(id);
  if (!row) return;
  const entries = openBucket(tx, row);
  const kept = entries.filter((e) => e.k !== key);
  if (kept.length !== entries.length) await writeBucket(tx, id, kept);
}

/** Forgets every entry of the chat with `chat` (the chat itself is being deleted in `tx`). */
export async function forgetChat(tx: Tx, chat: string): Promise<void> {
  for (const row of await tx.objectStore(SEARCH_STORE).getAll()) {
    const entries = openBucket(tx, row);
    const kept = entries.filter((e) => e.c !== chat);
    if (kept.length !== entries.length) await writeBucket(tx, row.id, kept);
  }
}

/**
 * Opened buckets per connection, each with the nonce it was sealed under: every write seals a
 * bucket under a fresh random nonce, so a bucket whose stored nonce is unchanged holds the same
 * entries and is not opened again. Dropped when the vault locks (P46: `forgetOpenedIndex`).
 */
const opened = new WeakMap<IDBDatabase, Map<string, { iv: Uint8Array; entries: IndexEntry[] }>>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Forgets the opened buckets of `db` (the vault locks, P46: no plaintext of it stays in memory). */
export function forgetOpenedIndex(db: VaultDb): void {
  opened.delete(unwrap(db));
}

/**
 * Every entry: one read of the BUCKETS rows, opening only the buckets written since the last
 * search (another tab's writes included: the read is of what is on disk).
 */
export async function loadEntries(vault: Vault): Promise<IndexEntry[]> {
  const rows = await vault.db.getAll(SEARCH_STORE);
  const raw = unwrap(vault.db);
  const before = opened.get(raw);
  const now = new Map<string, { iv: Uint8Array; entries: IndexEntry[] }>();
  for (const row of rows) {
    const known = before?.get(row.id);
    now.set(row.id, known && sameBytes(known.iv, row.sealed.iv) ? known : { iv: row.sealed.iv, entries: openBucket(vault.db, row) });
  }
  opened.set(raw, now);
  return [...now.values()].flatMap((b) => b.entries);
}

/**
 * Indexes up to `limit` messages after `after` (key order) that the index does not hold yet,
 * inside `tx`: the lazy backfill of history stored before the index existed. Answers the last key
 * it looked at, or undefined when the store has no more.
 */
export async function backfillStep(tx: Tx, after: string | undefined, limit: number, open: (row: MessageRow) => MessageRecord): Promise<string | undefined> {
  const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
  const rows = await tx.objectStore('messages').getAll(range, limit);
  const byBucket = new Map<string, IndexEntry[]>();
  for (const row of rows) {
    // Notices have no words; skip them unopened.
    if (row.direction === 'system') continue;
    const entry = entryOf(open(row));
    if (!entry) continue;
    const id = bucketOf(row.key);
    byBucket.set(id, [...(byBucket.get(id) ?? []), entry]);
  }
  for (const [id, added] of byBucket) {
    const entries = openBucket(tx, await tx.objectStore(SEARCH_STORE).get(id));
    const keys = new Set(added.map((e) => e.k));
    await writeBucket(tx, id, [...entries.filter((e) => !keys.has(e.k)), ...added]);
  }
  return rows.length < limit ? undefined : rows.at(-1)?.key;
}

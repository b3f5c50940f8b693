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
import { toBase64Url } from '../../src/lib/codec/base64url';
import { sealJson, openJson, type Conn } from './record-seal';
import { tokens } from './search-text';
import type { MessageRecord, SearchRow, Tx, VaultSchema } from './schema';

export const SEARCH_STORE = 'searchIndex';
/** Rows the index is spread over: 10 000 messages make buckets of about 40 entries (a few KB). */
export const BUCKETS = 256;

/**
 * The clear meta row rewritten, with fresh random bytes, in every transaction that writes a
 * bucket: a search that finds it unchanged knows the index is what it last opened
 * (search-cache.ts) without reading the buckets. Random, so it tells a dump nothing the
 * buckets' fresh nonces do not already show (that the index changed).
 */
export const SEARCH_STAMP = 'searchStamp';
/** The clear meta rows of the backfills' progress (search.ts): `{ after?: row key, done: boolean }`. */
export const BACKFILL_META = 'searchBackfill';
export const BACKFILL_GROUPS_META = 'searchBackfillGroups';

/** One searchable message. Short field names: the bucket is sealed JSON. */
export interface IndexEntry {
  /** The message's key in the `messages` store (`groupMessages` when `g` is set). */
  k: string;
  /** The chat: the person's username, or the group's id when `g` is set. */
  c: string;
  /** Set (1) for a group message. */
  g?: 1;
  /** Its sort time (`sentAt`). */
  t: number;
  /** Its distinct tokens. */
  w: string[];
}

interface Bucket {
  e: IndexEntry[];
}

/** The bucket of a message key (a group message's as `g:key`): FNV-1a 32 of its UTF-16 code units, mod BUCKETS. */
export function bucketOf(key: string, group = false): string {
  if (group) key = `g:${key}`;
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

export function openBucket(c: Conn, row: SearchRow | undefined): IndexEntry[] {
  return row ? openJson<Bucket>(c, SEARCH_STORE, row.id, row.sealed).e : [];
}

/** Transactions that renewed the stamp already. */
const stamped = new WeakSet<Tx>();

async function writeBucket(tx: Tx, id: string, entries: IndexEntry[]): Promise<void> {
  const store = tx.objectStore(SEARCH_STORE);
  if (entries.length === 0) await store.delete(id);
  else await store.put({ id, sealed: sealJson(tx, SEARCH_STORE, id, { e: entries } satisfies Bucket) });
  // Once per transaction: the stamp only has to differ from what any search read before it.
  if (!stamped.has(tx)) {
    stamped.add(tx);
    await tx.objectStore('meta').put(toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(16))), SEARCH_STAMP);
  }
}

/** Whether `e` is the entry of the 1:1 message `key` (`group` false) or of the group message `key`. */
function isEntry(e: IndexEntry, key: string, group: boolean): boolean {
  return e.k === key && (e.g === 1) === group;
}

function sameEntry(a: IndexEntry, b: IndexEntry): boolean {
  return a.c === b.c && a.t === b.t && a.g === b.g && a.w.length === b.w.length && a.w.every((t, i) => t === b.w[i]);
}

/**
 * Brings the index in line with `m` as it is being written (inside its transaction): adds it,
 * replaces its old words (an edit), or forgets it (deleted for everyone, nothing left to find).
 * A write that changes none of its words (a status, a reaction) rewrites nothing.
 */
export async function indexMessage(tx: Tx, m: MessageRecord): Promise<void> {
  await reindex(tx, m.key, false, entryOf(m));
}

/** `indexMessage` for the entry `next` (or none) of the message `key`. */
export async function reindex(tx: Tx, key: string, group: boolean, next: IndexEntry | undefined): Promise<void> {
  const id = bucketOf(key, group);
  const entries = openBucket(tx, await tx.objectStore(SEARCH_STORE).get(id));
  const at = entries.findIndex((e) => isEntry(e, key, group));
  if (next && at >= 0 && sameEntry(entries[at]!, next)) return;
  if (!next && at < 0) return;
  if (at >= 0) entries.splice(at, 1);
  if (next) entries.push(next);
  await writeBucket(tx, id, entries);
}

/** Forgets the message `key` (its row is being deleted in `tx`, P44). */
export async function forgetMessage(tx: Tx, key: string, group = false): Promise<void> {
  const id = bucketOf(key, group);
  const row = await tx.objectStore(SEARCH_STORE).get(id);
  if (!row) return;
  const entries = openBucket(tx, row);
  const kept = entries.filter((e) => !isEntry(e, key, group));
  if (kept.length !== entries.length) await writeBucket(tx, id, kept);
}

/** Forgets every entry of the chat with `chat` (or of the group `chat`: the chat itself is being deleted in `tx`). */
export async function forgetChat(tx: Tx, chat: string, group = false): Promise<void> {
  for (const row of await tx.objectStore(SEARCH_STORE).getAll()) {
    const entries = openBucket(tx, row);
    const kept = entries.filter((e) => e.c !== chat || (e.g === 1) !== group);
    if (kept.length !== entries.length) await writeBucket(tx, row.id, kept);
  }
}

/**
 * Indexes up to `limit` rows of `store` after `after` (key order) that the index does not hold
 * yet, inside `tx`: the lazy backfill of history stored before the index (or its group entries)
 * existed. `open` answers a row's entry (undefined: nothing to find). Answers the last key it
 * looked at, or undefined when the store has no more.
 */
export async function backfillStep<S extends 'messages' | 'groupMessages'>(
  tx: Tx,
  store: S,
  after: string | undefined,
  limit: number,
  open: (row: VaultSchema[S]['value']) => IndexEntry | undefined
): Promise<string | undefined> {
  const group = store === 'groupMessages';
  const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
  const rows = await tx.objectStore(store).getAll(range, limit);
  const byBucket = new Map<string, IndexEntry[]>();
  for (const row of rows) {
    const entry = open(row);
    if (!entry) continue;
    const id = bucketOf(row.key, group);
    byBucket.set(id, [...(byBucket.get(id) ?? []), entry]);
  }
  for (const [id, added] of byBucket) {
    const entries = openBucket(tx, await tx.objectStore(SEARCH_STORE).get(id));
    const keys = new Set(added.map((e) => e.k));
    await writeBucket(tx, id, [...entries.filter((e) => (e.g === 1) !== group || !keys.has(e.k)), ...added]);
  }
  return rows.length < limit ? undefined : rows.at(-1)?.key;
}

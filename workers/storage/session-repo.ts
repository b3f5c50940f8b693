/**
 * Sessions at rest (schema v3), per contact: the current session first, then up to
 * MAX_OLD_SESSIONS older ones. Old sessions are kept because when both sides start a session at
 * once each ends up answering the other's handshake; trying the old ones on receive lets the pair
 * converge (Signal keeps "previous session states" for the same reason, P35).
 *
 * Layout, built for the per-message path (every message loads, advances and commits a session):
 *  - `sessions`: one row per contact, the session HEADS (session-state.ts v2: everything but the
 *    skipped message keys, a few hundred bytes) and the list of their skipped-key rows
 *    (session-layout.ts), sealed as one value;
 *  - `skippedKeys`: one row per bucket of skipped keys (up to 32 consecutive message numbers of one
 *    chain, skipped-bucket.ts), keyed `${username}/${session id}/${bucket id}`.
 * Both are sealed synchronously with the vault's data key (record-seal.ts, P32), the associated
 * data naming the row, so sealing needs no await and a value cannot be moved to another row.
 *
 * Write only what changed: the ratchet edits skipped keys copy-on-write per bucket, so a bucket
 * the new state still holds as the SAME object as when it was loaded or last written is
 * unchanged and is not rewritten. A message rewrites the head row and at most the buckets it
 * touched; a used or expired key's bucket is rewritten without it (or deleted when empty) in the
 * same transaction as the head (P15). Every commit of a contact's sessions replaces the head
 * row, whose fresh nonce therefore identifies what is stored.
 *
 * Reads are cached per connection (states are immutable: the core never mutates its inputs).
 * Only the driver tab runs ratchets (P18), so on the per-message path what this connection last
 * read or wrote IS what is stored, and `loadSessions(…, { cached: true })` answers from memory
 * with no read at all. Anything else can only be a contact's sessions deleted from another tab
 * (a reset), so that path is made safe, not assumed: `putSessions` re-reads the head row inside
 * the write transaction and refuses to write over anything but what the change was computed from
 * (nothing another tab wrote is ever overwritten), and a caller whose decrypt fails re-reads
 * with `loadSessions(…)` (verified: the head row is read and the cache used only if its nonce is
 * unchanged) before believing the failure (receive-crypto.ts).
 *
 * A row that does not open, or a bucket that is missing or not the value its head row names, is
 * StorageLost (P33): never a silently different or older set of keys. Knows nothing of the
 * host or the protocol beyond the session encodings.
 */
import { unwrap } from 'idb';
import { bytesEqual, toHex } from '../../src/lib/codec/bytes';
import type { SessionState } from '../../src/lib/crypto/session';
import { decodeSessionHead, encodeSessionHead } from '../../src/lib/crypto/session-state';
import { decodeSkippedBucket, encodeSkippedBucket, type SkippedBucket } from '../../src/lib/crypto/ratchet/skipped-bucket';
import { bucketNumber, type SkippedKey } from '../../src/lib/crypto/ratchet/skipped-keys';
import { openBytes, sealBytes, type Conn } from './record-seal';
import type { SessionRow, SkippedKeysRow, Tx, Vault } from './schema';
import { SID_LEN, decodeSessionLayout, encodeSessionLayout, entryBucketId, type BucketEntry, type SessionEntry } from './session-layout';
import { engineFail } from '../engine/errors';
import type { Username } from '../../src/lib/codec/username';

export const MAX_OLD_SESSIONS = 3;
const MAX_SESSIONS = 1 + MAX_OLD_SESSIONS;
const HEADS = 'sessions';
const BUCKETS = 'skippedKeys';

/** One bucket as stored: the object the state holds, its row key and its entry in the head row. */
interface StoredBucket {
  keys: ReadonlyMap<number, SkippedKey>;
  key: string;
  entry: BucketEntry;
}

interface StoredSession {
  sid: Uint8Array;
  sidHex: string;
  state: SessionState;
  /** bucket id -> stored bucket, in the state's order. */
  buckets: Map<string, StoredBucket>;
}

/** What IndexedDB holds for one contact, as this connection last read or wrote it. */
interface Image {
  /** Nonce of the head row's sealed value; undefined when there is no row. */
  nonce: Uint8Array | undefined;
  sessions: StoredSession[];
  /** Keys of every skipped-key row stored for the contact. */
  rows: Set<string>;
}

/** A computed change to one contact's sessions; `putSessions` writes it inside a transaction. */
export interface SessionWrite {
  username: Username;
  /** The head row nonce the change was computed from. */
  expected: Uint8Array | undefined;
  /** Undefined: no sessions remain, the row is deleted. */
  row: SessionRow | undefined;
  puts: SkippedKeysRow[];
  deletes: string[];
  next: Image;
}

/** Per raw connection (one tab's database handle): username -> image. */
const images = new WeakMap<IDBDatabase, Map<Username, Image>>();

function imagesOf(c: Conn): Map<Username, Image> {
  const raw = 'mode' in c ? unwrap(c).db : unwrap(c);
  let m = images.get(raw);
  if (!m) images.set(raw, (m = new Map()));
  return m;
}

function rowKey(username: string, sidHex: string, bucketId: string): string {
  return `${username}/${sidHex}/${bucketId}`;
}

/** Every skipped-key row key of `username`: usernames hold no '/', so only theirs start with `${username}/`. */
function rowRange(username: string): IDBKeyRange {
  return IDBKeyRange.bound(`${username}/`, `${username}/\uffff`);
}

function sameNonce(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : bytesEqual(a, b);
}

/** Decodes a head row and its skipped-key rows into the image they store. */
function readImage(c: Conn, username: Username, row: SessionRow | undefined, stored: SkippedKeysRow[]): Image {
  const byKey = new Map(stored.map((r) => [r.key, r]));
  const image: Image = { nonce: row?.sealed.iv, sessions: [], rows: new Set(byKey.keys()) };
  if (!row) return image;
  for (const entry of decodeSessionLayout(openBytes(c, HEADS, username, row.sealed), MAX_SESSIONS)) {
    const sidHex = toHex(entry.sid);
    const decoded: SkippedBucket[] = [];
    for (const b of entry.buckets) {
      const id = entryBucketId(b);
      const key = rowKey(username, sidHex, id);
      const r = byKey.get(key);
      if (!r || !(r.sealed?.iv instanceof Uint8Array) || !bytesEqual(r.sealed.iv, b.nonce)) {
        engineFail('StorageLost', `a skipped-key row of a session is ${r ? 'not the one its session names' : 'missing'}`);
      }
      const bucket = decodeSkippedBucket(openBytes(c, BUCKETS, key, r.sealed));
      if (toHex(bucket.ratchetKey) !== toHex(b.chainKey) || bucket.bucket !== b.bucket) engineFail('StorageLost', 'a skipped-key row holds another bucket');
      decoded.push(bucket);
    }
    const state = decodeSessionHead(entry.head, decoded);
    const buckets = new Map<string, StoredBucket>();
    entry.buckets.forEach((b) => {
      const id = entryBucketId(b);
      buckets.set(id, { keys: state.ratchet.skipped.buckets.get(id)!, key: rowKey(username, sidHex, id), entry: b });
    });
    image.sessions.push({ sid: entry.sid, sidHex, state, buckets });
  }
  return image;
}

/** The stored image of `username`'s sessions: from the cache if the head row is unchanged. */
async function loadImage(vault: Vault, username: Username): Promise<Image> {
  const cache = imagesOf(vault.db);
  const tx = vault.db.transaction([HEADS, BUCKETS], 'readonly');
  const row = await tx.objectStore(HEADS).get(username);
  const cached = cache.get(username);
  const hit = cached && sameNonce(cached.nonce, row?.sealed.iv);
  // Skipped-key rows exist only under a head row that lists them (every write keeps both in step).
  const stored = hit || !row ? [] : await tx.objectStore(BUCKETS).getAll(rowRange(username));
  // Finished before the caller's write transaction is opened, which would otherwise queue behind it.
  await tx.done;
  if (hit) return cached;
  const image = readImage(vault.db, username, row, stored);
  cache.set(username, image);
  return image;
}

/**
 * `username`'s sessions, current first. Verified (the default): read from IndexedDB, reusing the
 * decoded cache only while the head row is unchanged. `cached`: this connection's cache when it
 * has one, with no read (the driver's per-message path; see the module header for why that is safe).
 */
export async function loadSessions(vault: Vault, username: Username, opts: { cached?: boolean } = {}): Promise<SessionState[]> {
  const image = (opts.cached ? imagesOf(vault.db).get(username) : undefined) ?? (await loadImage(vault, username));
  return image.sessions.map((s) => s.state);
}

/** Drops this connection's decoded sessions (the stores were cleared or rewritten wholesale). */
export function forgetSessions(c: Conn): void {
  imagesOf(c).clear();
}

/**
 * Which stored session each of `states` continues, if any: the same object, or one still holding
 * a bucket of it (the ratchet edits buckets copy-on-write, so an unchanged bucket is the same
 * object). That only decides which rows can be kept; a state with none is written in full.
 */
function ancestors(image: Image, states: SessionState[]): (StoredSession | undefined)[] {
  const free = new Set(image.sessions);
  const take = (s: StoredSession | undefined) => (s && free.delete(s) ? s : undefined);
  const holdsBucketOf = (state: SessionState, s: StoredSession) => {
    const buckets = state.ratchet.skipped.buckets;
    for (const [id, b] of s.buckets) if (buckets.get(id) === b.keys) return true;
    return false;
  };
  const out = states.map((state) => take(image.sessions.find((s) => free.has(s) && s.state === state)));
  states.forEach((state, i) => {
    if (!out[i] && state.ratchet.skipped.size > 0) out[i] = take(image.sessions.find((s) => free.has(s) && holdsBucketOf(state, s)));
  });
  return out;
}

/**
 * Computes the change that stores `states` (current first, trimmed to the cap) for `username`:
 * seals the head row and every bucket that changed. Synchronous sealing; the only await is a
 * read of the stored image when this connection has none.
 */
export async function sealSessions(vault: Vault, username: Username, states: SessionState[]): Promise<SessionWrite> {
  const image = imagesOf(vault.db).get(username) ?? (await loadImage(vault, username));
  const kept = states.slice(0, MAX_SESSIONS);
  const prevs = ancestors(image, kept);
  // A state that continues no stored session takes the id of a stored session nothing continues
  // (its rows are all rewritten or deleted below), or a new random one.
  const spare = image.sessions.filter((s) => !prevs.includes(s));
  const sessions: StoredSession[] = [];
  const entries: SessionEntry[] = [];
  const puts: SkippedKeysRow[] = [];
  const rows = new Set<string>();
  for (const [i, state] of kept.entries()) {
    const prev = prevs[i];
    const reused = prev ?? spare.shift();
    const sid = reused?.sid ?? globalThis.crypto.getRandomValues(new Uint8Array(SID_LEN));
    const sidHex = reused?.sidHex ?? toHex(sid);
    const buckets = new Map<string, StoredBucket>();
    const entry: SessionEntry = { sid, buckets: [], head: encodeSessionHead(state) };
    for (const [id, keys] of state.ratchet.skipped.buckets) {
      let stored = prev?.buckets.get(id);
      if (stored?.keys !== keys) {
        const key = stored?.key ?? rowKey(username, sidHex, id);
        const sealed = sealBytes(vault.db, BUCKETS, key, encodeSkippedBucket(keys));
        puts.push({ key, sealed });
        const first = keys.values().next().value!;
        stored = { keys, key, entry: { chainKey: first.ratchetKey, bucket: bucketNumber(first.n), nonce: sealed.iv } };
      }
      buckets.set(id, stored);
      rows.add(stored.key);
      entry.buckets.push(stored.entry);
    }
    sessions.push({ sid, sidHex, state, buckets });
    entries.push(entry);
  }
  const row = entries.length > 0 ? { username, sealed: sealBytes(vault.db, HEADS, username, encodeSessionLayout(entries, MAX_SESSIONS)) } : undefined;
  return {
    username,
    expected: image.nonce,
    row,
    puts,
    deletes: [...image.rows].filter((k) => !rows.has(k)),
    next: { nonce: row?.sealed.iv, sessions, rows }
  };
}

/**
 * Writes `w` in `tx`. Refuses (and the caller's transaction aborts) if the stored sessions are
 * no longer those `w` was computed from: another tab wrote them meanwhile. That cannot happen
 * under the driver lock (P18); if it does, nothing is written, the cache is dropped, and the
 * step is retried later from what is stored (a plain Error: not a protocol or storage failure).
 */
export async function putSessions(tx: Tx, w: SessionWrite): Promise<void> {
  const heads = tx.objectStore(HEADS);
  const current = await heads.get(w.username);
  const cache = imagesOf(tx);
  if (!sameNonce(current?.sealed.iv, w.expected)) {
    cache.delete(w.username);
    throw new Error('the sessions were changed by another writer since they were loaded');
  }
  const buckets = tx.objectStore(BUCKETS);
  await Promise.all([
    w.row ? heads.put(w.row) : heads.delete(w.username),
    ...w.deletes.map((k) => buckets.delete(k)),
    ...w.puts.map((r) => buckets.put(r))
  ]);
  // The image becomes what is stored only if this transaction commits.
  tx.done.then(
    () => cache.set(w.username, w.next),
    () => cache.delete(w.username)
  );
}

/** Forgets every session with `username` (the head row and all skipped-key rows). */
export async function deleteSessions(tx: Tx, username: Username): Promise<void> {
  await Promise.all([tx.objectStore(HEADS).delete(username), tx.objectStore(BUCKETS).delete(rowRange(username))]);
  const cache = imagesOf(tx);
  tx.done.then(
    () => cache.set(username, { nonce: undefined, sessions: [], rows: new Set() }),
    () => cache.delete(username)
  );
}

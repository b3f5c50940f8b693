/**
 * Attachment blobs on SQLite and disk (blob-port.ts; README "Attachments"): metadata in its own
 * SQLite file beside the host's (`user_version` migrations), bytes in one file per blob under
 * `<dataDir>/blobs/`. A file is named only by an id this module re-validates as 32 hex digits,
 * so no request can name a path (P40). A part is written and fsynced before `received` moves,
 * so a crash loses at most the part in flight, which the uploader sends again. Appends to one
 * blob are serialised in this process. Release hashes live in `blob_releases` (a later migration,
 * so a file from before gains it on open); a release strikes one off and, on a complete blob
 * whose list it emptied, deletes the blob in the same transaction, then its file; the uploader's
 * later hashes (`addReleases`) are added in one transaction that checks the owner. Knows nothing
 * of what a blob holds.
 */
import { mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_BLOB_RELEASES } from '../../lib/wire/blob-api';
import { BlobOffsetError, checkedHash, checkedReleases, type BlobRecord, type BlobStore } from './blob-port';
import { openSqliteFile } from './sqlite-file';

export const BLOBS_FILE = 'blobs.sqlite';
export const BLOBS_DIR = 'blobs';

export const BLOB_MIGRATIONS: readonly string[] = [
  `CREATE TABLE blobs (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     size INTEGER NOT NULL,
     received INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX blobs_created ON blobs (created_at);
   CREATE INDEX blobs_owner ON blobs (owner, received);`,
  // Release hashes (blob-port.ts), one row per recipient still to release; hex as the port speaks.
  `CREATE TABLE blob_releases (
     blob_id TEXT NOT NULL,
     hash TEXT NOT NULL,
     PRIMARY KEY (blob_id, hash)
   ) WITHOUT ROWID;`
];

function checkedId(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`blob id of ${id.length} characters is not 32 hex digits`);
  return id;
}

export function openSqliteBlobs(dataDir: string): BlobStore {
  const dir = join(dataDir, BLOBS_DIR);
  mkdirSync(dir, { recursive: true });
  const db = openSqliteFile(join(dataDir, BLOBS_FILE), BLOB_MIGRATIONS, { schema: 'blob' });
  type Row = { id: string; owner: string; size: number; received: number; created_at: number };
  const q = {
    get: db.prepare<[string], Row>('SELECT * FROM blobs WHERE id = ?'),
    insert: db.prepare('INSERT INTO blobs (id, owner, size, received, created_at) VALUES (?, ?, ?, 0, ?)'),
    received: db.prepare('UPDATE blobs SET received = ? WHERE id = ?'),
    pending: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM blobs WHERE owner = ? AND received < size'),
    expired: db.prepare<[number, number], { id: string }>('SELECT id FROM blobs WHERE created_at < ? OR (received < size AND created_at < ?)'),
    remove: db.prepare('DELETE FROM blobs WHERE id = ?'),
    addRelease: db.prepare('INSERT INTO blob_releases (blob_id, hash) VALUES (?, ?)'),
    strike: db.prepare('DELETE FROM blob_releases WHERE blob_id = ? AND hash = ?'),
    left: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM blob_releases WHERE blob_id = ?'),
    listed: db.prepare<[string], { hash: string }>('SELECT hash FROM blob_releases WHERE blob_id = ?'),
    removeReleases: db.prepare('DELETE FROM blob_releases WHERE blob_id = ?')
  };
  const insert = db.transaction((id: string, owner: string, size: number, now: number, releases: readonly string[]) => {
    q.insert.run(id, owner, size, now);
    for (const h of releases) q.addRelease.run(id, h);
  });
  const remove = db.transaction((id: string) => {
    q.removeReleases.run(id);
    q.remove.run(id);
  });
  /** Strikes `hash` off; true if that emptied the list of a complete blob, which is then deleted. */
  const strike = db.transaction((id: string, hash: string): boolean => {
    if (q.strike.run(id, hash).changes === 0) return false;
    const row = q.get.get(id);
    if (!row || row.received < row.size || q.left.get(id)!.n > 0) return false;
    q.remove.run(id);
    return true;
  });
  /** Lists the hashes of `releases` not listed yet, if the blob is `owner`'s and the list stays within MAX_BLOB_RELEASES. */
  const add = db.transaction((id: string, owner: string, releases: readonly string[]): 'added' | 'missing' | 'tooMany' => {
    const row = q.get.get(id);
    if (!row || row.owner !== owner) return 'missing';
    const listed = new Set(q.listed.all(id).map((r) => r.hash));
    const fresh = releases.filter((h) => !listed.has(h));
    if (listed.size + fresh.length > MAX_BLOB_RELEASES) return 'tooMany';
    for (const h of fresh) q.addRelease.run(id, h);
    return 'added';
  });
  const path = (id: string): string => join(dir, checkedId(id));
  const toRecord = (r: Row): BlobRecord => ({ id: r.id, owner: r.owner, size: r.size, received: r.received, createdAt: r.created_at });
  const locks = new Map<string, Promise<unknown>>();
  function serial<T>(id: string, f: () => Promise<T>): Promise<T> {
    const next = (locks.get(id) ?? Promise.resolve()).then(f, f);
    const settled = next.catch(() => undefined);
    locks.set(id, settled);
    void settled.then(() => locks.get(id) === settled && locks.delete(id));
    return next;
  }

  return {
    async create(id, owner, size, now, releases) {
      checkedReleases(releases);
      const file = await open(path(id), 'wx');
      await file.close();
      insert(id, owner, size, now, releases);
    },
    async get(id) {
      const row = q.get.get(checkedId(id));
      return row ? toRecord(row) : undefined;
    },
    async pending(owner) {
      return q.pending.get(owner)!.n;
    },
    append(id, offset, bytes) {
      return serial(id, async () => {
        const row = q.get.get(checkedId(id));
        if (!row) throw new Error('no such blob');
        if (offset !== row.received) throw new BlobOffsetError(row.received);
        if (offset + bytes.length > row.size) throw new RangeError(`part ends at ${offset + bytes.length}, past the blob's ${row.size} bytes`);
        const file = await open(path(id), 'r+');
        try {
          await file.write(bytes, 0, bytes.length, offset);
          await file.datasync();
        } finally {
          await file.close();
        }
        q.received.run(offset + bytes.length, id);
        return offset + bytes.length;
      });
    },
    async read(id, start, end) {
      const out = new Uint8Array(end - start);
      const file = await open(path(id), 'r');
      try {
        let at = 0;
        while (at < out.length) {
          const { bytesRead } = await file.read(out, at, out.length - at, start + at);
          if (bytesRead === 0) throw new Error(`blob file ends at ${start + at}, expected ${end}`);
          at += bytesRead;
        }
      } finally {
        await file.close();
      }
      return out;
    },
    async release(id, hash) {
      checkedHash(hash);
      return serial(checkedId(id), async () => {
        // The row goes first, in the transaction: a crash before the file is removed leaves only
        // unreachable bytes, never a row without its file.
        if (!strike(id, hash)) return false;
        await rm(path(id), { force: true });
        return true;
      });
    },
    async addReleases(id, owner, releases) {
      checkedReleases(releases);
      // One synchronous transaction, so no release's strike (also one) interleaves with it: a
      // release that deleted the blob came first and this answers 'missing'.
      return add(checkedId(id), owner, releases);
    },
    async remove(id, owner) {
      return serial(checkedId(id), async () => {
        const row = q.get.get(id);
        if (!row || row.owner !== owner) return false;
        // Row first, then the file, as for a release.
        remove(id);
        await rm(path(id), { force: true });
        return true;
      });
    },
    async sweep(before, incompleteBefore) {
      const ids = q.expired.all(before, incompleteBefore).map((r) => r.id);
      for (const id of ids) {
        await serial(id, async () => {
          remove(id);
          await rm(path(id), { force: true });
        });
      }
      return ids.length;
    },
    async close() {
      await Promise.allSettled([...locks.values()]);
      db.close();
    }
  };
}

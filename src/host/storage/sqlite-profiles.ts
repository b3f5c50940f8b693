/**
 * Owner-written blobs on SQLite (profile-port.ts; SECURITY.md P43): profile blobs and username
 * links, one table each in their own file `profiles.sqlite` next to the host's, its own
 * `user_version` migrations, WAL with synchronous=FULL, and secure_delete
 * with a WAL truncation after deletes, so a replaced or deleted blob (a rotation on block) leaves
 * no copy in the file or its WAL for a later dump. Check-and-write runs in one BEGIN IMMEDIATE
 * transaction. Knows nothing of what a blob holds.
 */
import type Database from 'better-sqlite3';
import { timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { OwnedBlobStores, ProfileStore } from './profile-port';
import { openSqliteFile } from './sqlite-file';

export const PROFILES_FILE = 'profiles.sqlite';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE profiles (
     address BLOB PRIMARY KEY,
     verifier BLOB NOT NULL,
     blob BLOB NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // v2: encrypted username links (username-link.ts), the same shape.
  `CREATE TABLE username_links (
     address BLOB PRIMARY KEY,
     verifier BLOB NOT NULL,
     blob BLOB NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;`
];
const TABLES = ['profiles', 'username_links'] as const;

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

export function openSqliteProfiles(dataDir: string): OwnedBlobStores {
  const db = openSqliteFile(join(dataDir, PROFILES_FILE), MIGRATIONS, { schema: 'profile', secureDelete: true });
  /** A replaced or deleted blob's old bytes leave the WAL too (secure_delete zeroes the file's). */
  const truncateWal = (): void => void db.pragma('wal_checkpoint(TRUNCATE)');
  const [profiles, links] = TABLES.map((t) => blobTable(db, t, truncateWal));
  return {
    profiles: profiles!,
    links: links!,
    async close() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
  };
}

function blobTable(db: Database.Database, table: (typeof TABLES)[number], truncateWal: () => void): ProfileStore {
  type Row = { verifier: Buffer; blob: Buffer; updated_at: number };
  const q = {
    get: db.prepare<[Uint8Array], Row>(`SELECT verifier, blob, updated_at FROM ${table} WHERE address = ?`),
    insert: db.prepare(`INSERT INTO ${table} (address, verifier, blob, updated_at) VALUES (?, ?, ?, ?)`),
    update: db.prepare(`UPDATE ${table} SET blob = ?, updated_at = ? WHERE address = ?`),
    remove: db.prepare(`DELETE FROM ${table} WHERE address = ?`)
  };

  const put = db.transaction((address: Uint8Array, verifier: Uint8Array, blob: Uint8Array, now: number): 'stored' | 'mismatch' => {
    const row = q.get.get(address);
    if (!row) q.insert.run(address, verifier, blob, now);
    else if (same(row.verifier, verifier)) q.update.run(blob, now, address);
    else return 'mismatch';
    return 'stored';
  });
  const remove = db.transaction((address: Uint8Array, verifier: Uint8Array): 'deleted' | 'absent' | 'mismatch' => {
    const row = q.get.get(address);
    if (!row) return 'absent';
    if (!same(row.verifier, verifier)) return 'mismatch';
    q.remove.run(address);
    return 'deleted';
  });

  return {
    async get(address) {
      const row = q.get.get(address);
      return row ? { blob: new Uint8Array(row.blob), updatedAt: row.updated_at } : undefined;
    },
    async put(address, verifier, blob, now) {
      const r = put.immediate(address, verifier, blob, now);
      if (r === 'stored') truncateWal();
      return r;
    },
    async remove(address, verifier) {
      const r = remove.immediate(address, verifier);
      if (r === 'deleted') truncateWal();
      return r;
    }
  };
}

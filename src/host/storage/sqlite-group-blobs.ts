/**
 * Group state blobs on SQLite (group-blob-port.ts; README "Groups"), in their own file beside the
 * host's, with `user_version` migrations. Check-and-write runs in one transaction, so two writers
 * with different tokens cannot both win. Secure delete is on: a replaced blob's bytes are
 * overwritten, not left in free pages. Knows nothing of what a blob holds.
 */
import { timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { GroupBlobStore } from './group-blob-port';
import { openSqliteFile } from './sqlite-file';

export const GROUP_BLOBS_FILE = 'group-blobs.sqlite';

export const GROUP_BLOB_MIGRATIONS: readonly string[] = [
  `CREATE TABLE group_blobs (
     address BLOB PRIMARY KEY,
     token_hash BLOB NOT NULL,
     blob BLOB NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;`
];

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

export function openSqliteGroupBlobs(dataDir: string): GroupBlobStore {
  const db = openSqliteFile(join(dataDir, GROUP_BLOBS_FILE), GROUP_BLOB_MIGRATIONS, { schema: 'group blob', secureDelete: true });
  type Row = { token_hash: Buffer; blob: Buffer };
  const q = {
    get: db.prepare<[Uint8Array], Row>('SELECT token_hash, blob FROM group_blobs WHERE address = ?'),
    insert: db.prepare('INSERT INTO group_blobs (address, token_hash, blob, updated_at) VALUES (?, ?, ?, ?)'),
    update: db.prepare('UPDATE group_blobs SET blob = ?, updated_at = ?, token_hash = ? WHERE address = ?')
  };
  const put = db.transaction((address: Uint8Array, tokenHash: Uint8Array, blob: Uint8Array, now: number, nextTokenHash?: Uint8Array): 'stored' | 'mismatch' => {
    const row = q.get.get(address);
    if (!row) q.insert.run(address, nextTokenHash ?? tokenHash, blob, now);
    else if (same(row.token_hash, tokenHash)) q.update.run(blob, now, nextTokenHash ?? tokenHash, address);
    else return 'mismatch';
    return 'stored';
  });
  return {
    async getBlob(address) {
      const row = q.get.get(address);
      return row ? new Uint8Array(row.blob) : undefined;
    },
    async putBlob(address, tokenHash, blob, now, nextTokenHash) {
      return put(address, tokenHash, blob, now, nextTokenHash);
    },
    async close() {
      db.close();
    }
  };
}

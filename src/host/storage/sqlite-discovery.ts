/**
 * DiscoveryIndex on SQLite (discovery-port.ts): its own file `discovery.sqlite` next to the
 * host's, one table of 32-byte hashes, WAL with synchronous=FULL, its own `user_version`
 * migrations. `existingUsernames` reads the account names of the host's own database once, for
 * the migration that fills an empty index. Knows nothing of HTTP or hashing.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DiscoveryIndex } from './discovery-port';
import { DB_FILE } from './sqlite';
import { openSqliteFile } from './sqlite-file';

export const DISCOVERY_FILE = 'discovery.sqlite';
const MIGRATIONS: readonly string[] = [`CREATE TABLE username_hashes (hash BLOB PRIMARY KEY) WITHOUT ROWID;`];

export function openSqliteDiscovery(dataDir: string): DiscoveryIndex {
  const db = openSqliteFile(join(dataDir, DISCOVERY_FILE), MIGRATIONS, { schema: 'discovery' });
  const q = {
    has: db.prepare('SELECT 1 FROM username_hashes WHERE hash = ?').pluck(),
    add: db.prepare('INSERT OR IGNORE INTO username_hashes (hash) VALUES (?)'),
    size: db.prepare('SELECT count(*) FROM username_hashes').pluck()
  };
  return {
    has: async (hash) => q.has.get(hash) !== undefined,
    add: async (hash) => void q.add.run(hash),
    size: async () => q.size.get() as number,
    async close() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
  };
}

/** The account names in the host's database (read-only), for filling an empty index once. */
export function existingUsernames(dataDir: string): string[] {
  const file = join(dataDir, DB_FILE);
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT username FROM accounts').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/**
 * DiscoveryIndex on SQLite (discovery-port.ts): its own file `discovery.sqlite` next to the
 * host's, one table of 32-byte hashes with the account's identity key, WAL with synchronous=FULL,
 * its own `user_version` migrations. `existingAccounts` reads the accounts of the host's own
 * database, for the fill at startup. Knows nothing of HTTP or hashing.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DiscoveryIndex } from './discovery-port';
import { DB_FILE } from './sqlite';
import { openSqliteFile } from './sqlite-file';

export const DISCOVERY_FILE = 'discovery.sqlite';
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE username_hashes (hash BLOB PRIMARY KEY) WITHOUT ROWID;`,
  // v2: the identity key beside each hash (anonymous lookups answer it); NULL until filled.
  `ALTER TABLE username_hashes ADD COLUMN identity BLOB;`
];

export function openSqliteDiscovery(dataDir: string): DiscoveryIndex {
  const db = openSqliteFile(join(dataDir, DISCOVERY_FILE), MIGRATIONS, { schema: 'discovery' });
  const q = {
    find: db.prepare('SELECT identity FROM username_hashes WHERE hash = ?'),
    add: db.prepare('INSERT INTO username_hashes (hash, identity) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET identity = excluded.identity WHERE identity IS NULL'),
    drop: db.prepare('DELETE FROM username_hashes WHERE identity IS NULL'),
    identities: db.prepare('SELECT identity FROM username_hashes WHERE identity IS NOT NULL').pluck(),
    missing: db.prepare('SELECT count(*) FROM username_hashes WHERE identity IS NULL').pluck()
  };
  return {
    async find(hash) {
      const row = q.find.get(hash) as { identity: Buffer | null } | undefined;
      if (!row) return undefined;
      return row.identity === null ? null : new Uint8Array(row.identity);
    },
    add: async (hash, identity) => void q.add.run(hash, identity),
    dropIncomplete: async () => q.drop.run().changes,
    identities: async () => (q.identities.all() as Buffer[]).map((b) => new Uint8Array(b)),
    missingIdentities: async () => q.missing.get() as number,
    async close() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
  };
}

/** The accounts in the host's database (read-only): name and encoded identity, for the fill. */
export function existingAccounts(dataDir: string): { username: string; identity: Uint8Array }[] {
  const file = join(dataDir, DB_FILE);
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT username, identity FROM accounts').all() as { username: string; identity: Buffer }[]).map((r) => ({ username: r.username, identity: new Uint8Array(r.identity) }));
  } finally {
    db.close();
  }
}

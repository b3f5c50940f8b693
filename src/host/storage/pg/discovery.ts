/**
 * The discovery index on PostgreSQL (discovery-port.ts; README "Design: private discovery"): one
 * table of 32-byte lookup hashes with each account's identity key, shared by every host instance,
 * so a name registered through one instance is found through another. Own migration track
 * (`parley_discovery_schema`). Adding is idempotent (two instances filling the index at once
 * write each entry once). `pgAccounts` reads the host's own accounts table for the fill. Knows
 * nothing of HTTP or hashing.
 */
import type pg from 'pg';
import type { DiscoveryIndex } from '../discovery-port';
import { bytes, migrate } from './client';

export const DISCOVERY_SCHEMA_TRACK = 'parley_discovery_schema';
export const PG_DISCOVERY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE username_hashes (hash BYTEA PRIMARY KEY);`,
  // v2: the identity key beside each hash (anonymous lookups answer it); NULL until filled.
  `ALTER TABLE username_hashes ADD COLUMN identity BYTEA;`
];

const count = async (pool: pg.Pool, sql: string): Promise<number> => Number((await pool.query<{ n: number }>(sql)).rows[0]!.n);

/** The index on `pool` after its migrations; `close` leaves the pool to its owner. */
export async function openPgDiscovery(pool: pg.Pool): Promise<DiscoveryIndex> {
  await migrate(pool, DISCOVERY_SCHEMA_TRACK, PG_DISCOVERY_MIGRATIONS);
  return {
    async find(hash) {
      const r = await pool.query<{ identity: Buffer | null }>('SELECT identity FROM username_hashes WHERE hash = $1', [hash]);
      if (r.rowCount === 0) return undefined;
      return r.rows[0]!.identity === null ? null : bytes(r.rows[0]!.identity);
    },
    add: async (hash, identity) =>
      void (await pool.query('INSERT INTO username_hashes AS u (hash, identity) VALUES ($1, $2) ON CONFLICT (hash) DO UPDATE SET identity = excluded.identity WHERE u.identity IS NULL', [hash, identity])),
    dropIncomplete: async () => (await pool.query('DELETE FROM username_hashes WHERE identity IS NULL')).rowCount ?? 0,
    identities: async () => (await pool.query<{ identity: Buffer }>('SELECT identity FROM username_hashes WHERE identity IS NOT NULL')).rows.map((r) => bytes(r.identity)),
    missingIdentities: () => count(pool, 'SELECT count(*)::integer AS n FROM username_hashes WHERE identity IS NULL'),
    close: async () => undefined
  };
}

/** The accounts in the host's PostgreSQL tables (name and encoded identity), for the fill. */
export async function pgAccounts(pool: pg.Pool): Promise<{ username: string; identity: Uint8Array }[]> {
  return (await pool.query<{ username: string; identity: Buffer }>('SELECT username, identity FROM accounts')).rows.map((r) => ({ username: r.username, identity: bytes(r.identity) }));
}

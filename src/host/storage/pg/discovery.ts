/**
 * The discovery index on PostgreSQL (discovery-port.ts; README "Private discovery"): one table of
 * 32-byte lookup hashes shared by every host instance, so a name registered through one instance
 * is found through another. Own migration track (`parley_discovery_schema`). Adding is
 * idempotent (two instances filling an empty index at once insert each hash once).
 * `pgUsernames` reads the host's own accounts table for that one-time fill. Knows nothing of
 * HTTP or hashing.
 */
import type pg from 'pg';
import type { DiscoveryIndex } from '../discovery-port';
import { migrate } from './client';

export const DISCOVERY_SCHEMA_TRACK = 'parley_discovery_schema';
export const PG_DISCOVERY_MIGRATIONS: readonly string[] = [`CREATE TABLE username_hashes (hash BYTEA PRIMARY KEY);`];

/** The index on `pool` after its migrations; `close` leaves the pool to its owner. */
export async function openPgDiscovery(pool: pg.Pool): Promise<DiscoveryIndex> {
  await migrate(pool, DISCOVERY_SCHEMA_TRACK, PG_DISCOVERY_MIGRATIONS);
  return {
    has: async (hash) => (await pool.query('SELECT 1 FROM username_hashes WHERE hash = $1', [hash])).rowCount === 1,
    add: async (hash) => void (await pool.query('INSERT INTO username_hashes (hash) VALUES ($1) ON CONFLICT DO NOTHING', [hash])),
    size: async () => Number((await pool.query<{ n: number }>('SELECT count(*)::integer AS n FROM username_hashes')).rows[0]!.n),
    close: async () => undefined
  };
}

/** The account names in the host's PostgreSQL tables, for filling an empty index once. */
export async function pgUsernames(pool: pg.Pool): Promise<string[]> {
  return (await pool.query<{ username: string }>('SELECT username FROM accounts')).rows.map((r) => r.username);
}

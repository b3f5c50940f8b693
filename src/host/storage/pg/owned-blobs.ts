/**
 * Owner-written blobs on PostgreSQL (profile-port.ts: profile blobs, SECURITY.md P43, and
 * username links), for several host instances on one database. Their own migration track
 * (`parley_profiles_schema`) beside the host's, run once under the advisory lock of
 * client.ts `migrate`. Each check-and-write is one statement, so two instances racing on one
 * address cannot both pass the verifier check. PostgreSQL cannot scrub a replaced or deleted blob
 * from disk (old row versions and WAL keep the bytes until overwritten), unlike the SQLite
 * adapter: a deployment that needs rotated-away profiles gone from disk stays on SQLite.
 * Knows nothing of what a blob holds.
 */
import type pg from 'pg';
import type { OwnedBlobStores, ProfileStore } from '../profile-port';
import { bytes, migrate } from './client';

export const PROFILES_SCHEMA_TRACK = 'parley_profiles_schema';
const TABLES = ['profiles', 'username_links'] as const;
export const PROFILES_MIGRATIONS: readonly string[] = [
  TABLES.map((t) => `CREATE TABLE ${t} (address BYTEA PRIMARY KEY, verifier BYTEA NOT NULL, blob BYTEA NOT NULL, updated_at BIGINT NOT NULL);`).join('\n')
];

function table(pool: pg.Pool, t: (typeof TABLES)[number]): ProfileStore {
  return {
    async get(address) {
      const r = await pool.query<{ blob: Buffer; updated_at: number }>(`SELECT blob, updated_at FROM ${t} WHERE address = $1`, [address]);
      const row = r.rows[0];
      return row ? { blob: bytes(row.blob), updatedAt: Number(row.updated_at) } : undefined;
    },
    async put(address, verifier, blob, now) {
      const r = await pool.query(
        `INSERT INTO ${t} AS b (address, verifier, blob, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (address) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at
         WHERE b.verifier = excluded.verifier`,
        [address, verifier, blob, now]
      );
      return r.rowCount === 1 ? 'stored' : 'mismatch';
    },
    async remove(address, verifier) {
      const r = await pool.query<{ deleted: number; present: boolean }>(
        `WITH d AS (DELETE FROM ${t} WHERE address = $1 AND verifier = $2 RETURNING 1)
         SELECT (SELECT count(*) FROM d)::integer AS deleted, EXISTS (SELECT 1 FROM ${t} WHERE address = $1) AS present`,
        [address, verifier]
      );
      const row = r.rows[0]!;
      return row.deleted === 1 ? 'deleted' : row.present ? 'mismatch' : 'absent';
    }
  };
}

/** The stores on `pool` after their migrations; `close` leaves the pool to its owner. */
export async function openPgOwnedBlobs(pool: pg.Pool): Promise<OwnedBlobStores> {
  await migrate(pool, PROFILES_SCHEMA_TRACK, PROFILES_MIGRATIONS);
  return { profiles: table(pool, 'profiles'), links: table(pool, 'username_links'), close: async () => undefined };
}

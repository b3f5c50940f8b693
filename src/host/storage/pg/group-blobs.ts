/**
 * Group state blobs on PostgreSQL (group-blob-port.ts; README "Groups"), so every host instance
 * on one database serves the same encrypted group states. Own migration track
 * (`parley_group_blobs_schema`). The check-and-write is one statement: of two instances racing
 * with different write tokens on a new address, exactly one fixes the token (P19: the host
 * accepts a replacement only with the token that first wrote). As owned-blobs.ts says,
 * PostgreSQL keeps old row versions until vacuumed and overwritten: a replaced state's bytes are
 * not scrubbed as the SQLite adapter's secure_delete does. Knows nothing of what a blob holds.
 */
import type pg from 'pg';
import type { GroupBlobStore } from '../group-blob-port';
import { bytes, migrate } from './client';

export const GROUP_BLOBS_SCHEMA_TRACK = 'parley_group_blobs_schema';
export const PG_GROUP_BLOB_MIGRATIONS: readonly string[] = [
  `CREATE TABLE group_blobs (address BYTEA PRIMARY KEY, token_hash BYTEA NOT NULL, blob BYTEA NOT NULL, updated_at BIGINT NOT NULL);`
];

/** The store on `pool` after its migrations; `close` leaves the pool to its owner. */
export async function openPgGroupBlobs(pool: pg.Pool): Promise<GroupBlobStore> {
  await migrate(pool, GROUP_BLOBS_SCHEMA_TRACK, PG_GROUP_BLOB_MIGRATIONS);
  return {
    async getBlob(address) {
      const r = await pool.query<{ blob: Buffer }>('SELECT blob FROM group_blobs WHERE address = $1', [address]);
      return r.rows[0] ? bytes(r.rows[0].blob) : undefined;
    },
    async putBlob(address, tokenHash, blob, now, nextTokenHash) {
      // $5 is the hash the address demands afterwards (the presented one unless a handoff passes it on).
      const r = await pool.query(
        `INSERT INTO group_blobs AS g (address, token_hash, blob, updated_at) VALUES ($1, $5, $3, $4)
         ON CONFLICT (address) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at, token_hash = excluded.token_hash
         WHERE g.token_hash = $2`,
        [address, tokenHash, blob, now, nextTokenHash ?? tokenHash]
      );
      return r.rowCount === 1 ? 'stored' : 'mismatch';
    },
    close: async () => undefined
  };
}

/**
 * Sealed account records and the device gate on PostgreSQL (port.ts AccountRecordStore;
 * DESIGN.md §7, P26, P37). Each check-and-write is one statement, so two instances racing on
 * one record cannot both pass the key-hash check. Knows nothing of what a record holds.
 */
import type pg from 'pg';
import type { AccountRecordStore } from '../port';
import { bytes } from './client';

export function pgRecords(pool: pg.Pool): AccountRecordStore {
  return {
    async getRecord(username) {
      const r = await pool.query<{ key_hash: Buffer; record: Buffer; updated_at: number }>('SELECT key_hash, record, updated_at FROM account_records WHERE username = $1', [username]);
      const row = r.rows[0];
      return row ? { keyHash: bytes(row.key_hash), record: bytes(row.record), updatedAt: row.updated_at } : undefined;
    },

    async putRecord(username, keyHash, record, now) {
      // Inserts a first record, or updates only where the stored key hash matches.
      const r = await pool.query(
        `INSERT INTO account_records AS a (username, key_hash, record, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (username) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at
         WHERE a.key_hash = excluded.key_hash`,
        [username, keyHash, record, now]
      );
      return r.rowCount === 1 ? 'stored' : 'mismatch';
    },

    async deleteRecord(username, keyHash) {
      // `present` reads the snapshot from before the delete.
      const r = await pool.query<{ deleted: number; present: boolean }>(
        `WITH d AS (DELETE FROM account_records WHERE username = $1 AND key_hash = $2 RETURNING 1)
         SELECT (SELECT count(*) FROM d)::integer AS deleted, EXISTS (SELECT 1 FROM account_records WHERE username = $1) AS present`,
        [username, keyHash]
      );
      const row = r.rows[0]!;
      return row.deleted === 1 ? 'deleted' : row.present ? 'mismatch' : 'absent';
    },

    async deviceHash(username) {
      const r = await pool.query<{ device_hash: Buffer }>('SELECT device_hash FROM devices WHERE username = $1', [username]);
      return r.rows[0] ? bytes(r.rows[0].device_hash) : undefined;
    }
  };
}

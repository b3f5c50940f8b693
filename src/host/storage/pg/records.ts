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
      const r = await pool.query<{ key_hash: Buffer; record: Buffer; updated_at: number; takeover_key: Buffer | null }>(
        'SELECT key_hash, record, updated_at, takeover_key FROM account_records WHERE username = $1',
        [username]
      );
      const row = r.rows[0];
      if (!row) return undefined;
      return { keyHash: bytes(row.key_hash), record: bytes(row.record), updatedAt: row.updated_at, ...(row.takeover_key ? { takeoverKey: bytes(row.takeover_key) } : {}) };
    },

    async putRecord(username, keyHash, record, takeoverKey, now) {
      // Inserts a first record, or updates only where the stored key hash and takeover key match
      // (P37: fixed at creation; a record from before it takes this one).
      const r = await pool.query(
        `INSERT INTO account_records AS a (username, key_hash, record, updated_at, takeover_key) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (username) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at, takeover_key = excluded.takeover_key
         WHERE a.key_hash = excluded.key_hash AND (a.takeover_key IS NULL OR a.takeover_key = excluded.takeover_key)`,
        [username, keyHash, record, now, takeoverKey]
      );
      return r.rowCount === 1 ? 'stored' : 'mismatch';
    },

    async issuerKey(make) {
      const read = async () => (await pool.query<{ private_key: Buffer; public_key: Buffer }>('SELECT private_key, public_key FROM issuer WHERE id = 1')).rows[0];
      let row = await read();
      if (!row) {
        const kp = make();
        // Instances starting together: the first insert wins and everyone reads it back.
        await pool.query('INSERT INTO issuer (id, private_key, public_key) VALUES (1, $1, $2) ON CONFLICT DO NOTHING', [kp.privateKey, kp.publicKey]);
        row = await read();
      }
      return { privateKey: bytes(row!.private_key), publicKey: bytes(row!.public_key) };
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

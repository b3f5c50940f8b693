/**
 * Sealed account records and the device gate on SQLite (port.ts AccountRecordStore; DESIGN.md
 * §7, P26, P37, P38), in their own file next to the host's: the file name, tables and
 * `user_version` migrations the host has always used, so existing data dirs open unchanged.
 * Check-and-write runs in one BEGIN IMMEDIATE transaction. The realm-token issuer key (P38) lives
 * here too. Knows nothing of what a record holds.
 */
import { timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { AccountRecordStore, IssuerKeyPair } from './port';
import { openSqliteFile } from './sqlite-file';

export const RECORDS_FILE = 'account-records.sqlite';

/** Append only; never edit a shipped migration. */
export const RECORD_MIGRATIONS: readonly string[] = [
  `CREATE TABLE account_records (
     username TEXT PRIMARY KEY,
     key_hash BLOB NOT NULL,
     record BLOB NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE devices (
     username TEXT PRIMARY KEY,
     device_hash BLOB NOT NULL
   );`,
  // v2 (P37, P38): the takeover public key fixed with the record, and the realm-token issuer key.
  // The device gate moved into the host storage (beside the prekeys); old rows here are still read.
  `ALTER TABLE account_records ADD COLUMN takeover_key BLOB;
   CREATE TABLE issuer (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     private_key BLOB NOT NULL,
     public_key BLOB NOT NULL
   );`
];

export interface SqliteRecords extends AccountRecordStore {
  setDevice(username: string, deviceHash: Uint8Array): void;
  close(): void;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

export function openSqliteRecords(dataDir: string): SqliteRecords {
  const db = openSqliteFile(join(dataDir, RECORDS_FILE), RECORD_MIGRATIONS, { schema: 'account-record' });
  type Row = { key_hash: Buffer; record: Buffer; updated_at: number; takeover_key: Buffer | null };
  const q = {
    get: db.prepare<[string], Row>('SELECT key_hash, record, updated_at, takeover_key FROM account_records WHERE username = ?'),
    insert: db.prepare('INSERT INTO account_records (username, key_hash, record, updated_at, takeover_key) VALUES (?, ?, ?, ?, ?)'),
    update: db.prepare('UPDATE account_records SET record = ?, updated_at = ?, takeover_key = ? WHERE username = ?'),
    issuer: db.prepare<[], { private_key: Buffer; public_key: Buffer }>('SELECT private_key, public_key FROM issuer WHERE id = 1'),
    setIssuer: db.prepare('INSERT INTO issuer (id, private_key, public_key) VALUES (1, ?, ?)'),
    remove: db.prepare('DELETE FROM account_records WHERE username = ?'),
    device: db.prepare('SELECT device_hash FROM devices WHERE username = ?').pluck(),
    setDevice: db.prepare('INSERT INTO devices (username, device_hash) VALUES (?, ?) ON CONFLICT(username) DO UPDATE SET device_hash = excluded.device_hash')
  };

  const put = db.transaction((username: string, keyHash: Uint8Array, record: Uint8Array, takeover: Uint8Array, now: number): 'stored' | 'mismatch' => {
    const row = q.get.get(username);
    if (!row) {
      q.insert.run(username, keyHash, record, now, takeover);
      return 'stored';
    }
    if (!same(row.key_hash, keyHash)) return 'mismatch';
    // Fixed at creation (P37); a record from before P37 gets it from its holder's next upload.
    if (row.takeover_key && !same(row.takeover_key, takeover)) return 'mismatch';
    q.update.run(record, now, takeover, username);
    return 'stored';
  });
  const issuer = db.transaction((make: () => IssuerKeyPair): IssuerKeyPair => {
    const row = q.issuer.get();
    if (row) return { privateKey: new Uint8Array(row.private_key), publicKey: new Uint8Array(row.public_key) };
    const kp = make();
    q.setIssuer.run(kp.privateKey, kp.publicKey);
    return kp;
  });
  const remove = db.transaction((username: string, keyHash: Uint8Array): 'deleted' | 'absent' | 'mismatch' => {
    const row = q.get.get(username);
    if (!row) return 'absent';
    if (!same(row.key_hash, keyHash)) return 'mismatch';
    q.remove.run(username);
    return 'deleted';
  });

  return {
    async getRecord(username) {
      const row = q.get.get(username);
      if (!row) return undefined;
      return { keyHash: new Uint8Array(row.key_hash), record: new Uint8Array(row.record), updatedAt: row.updated_at, ...(row.takeover_key ? { takeoverKey: new Uint8Array(row.takeover_key) } : {}) };
    },
    putRecord: async (username, keyHash, record, takeover, now) => put.immediate(username, keyHash, record, takeover, now),
    issuerKey: async (make) => issuer.immediate(make),
    deleteRecord: async (username, keyHash) => remove.immediate(username, keyHash),
    async deviceHash(username) {
      const b = q.device.get(username) as Buffer | undefined;
      return b ? new Uint8Array(b) : undefined;
    },
    setDevice(username, deviceHash) {
      q.setDevice.run(username, deviceHash);
    },
    close() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
  };
}

/**
 * Sealed account records and the device gate on SQLite (port.ts AccountRecordStore; DESIGN.md
 * §7, P26, P37), in their own file next to the host's, as account-record.ts keeps them: the same
 * file name, tables and `user_version` migrations, so either opens what the other wrote.
 * Check-and-write runs in one BEGIN IMMEDIATE transaction. Knows nothing of what a record holds.
 */
import Database from 'better-sqlite3';
import { timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountRecordStore } from './port';

export const RECORDS_FILE = 'account-records.sqlite';

/** account-record.ts MIGRATIONS, verbatim: one schema, two readers until the host moves to the port. */
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
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, RECORDS_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > RECORD_MIGRATIONS.length) throw new Error(`account-record schema ${version} is newer than this host`);
  for (let v = version; v < RECORD_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(RECORD_MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  type Row = { key_hash: Buffer; record: Buffer; updated_at: number };
  const q = {
    get: db.prepare<[string], Row>('SELECT key_hash, record, updated_at FROM account_records WHERE username = ?'),
    insert: db.prepare('INSERT INTO account_records (username, key_hash, record, updated_at) VALUES (?, ?, ?, ?)'),
    update: db.prepare('UPDATE account_records SET record = ?, updated_at = ? WHERE username = ?'),
    remove: db.prepare('DELETE FROM account_records WHERE username = ?'),
    device: db.prepare('SELECT device_hash FROM devices WHERE username = ?').pluck(),
    setDevice: db.prepare('INSERT INTO devices (username, device_hash) VALUES (?, ?) ON CONFLICT(username) DO UPDATE SET device_hash = excluded.device_hash')
  };

  const put = db.transaction((username: string, keyHash: Uint8Array, record: Uint8Array, now: number): 'stored' | 'mismatch' => {
    const row = q.get.get(username);
    if (!row) q.insert.run(username, keyHash, record, now);
    else if (same(row.key_hash, keyHash)) q.update.run(record, now, username);
    else return 'mismatch';
    return 'stored';
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
      return row ? { keyHash: new Uint8Array(row.key_hash), record: new Uint8Array(row.record), updatedAt: row.updated_at } : undefined;
    },
    putRecord: async (username, keyHash, record, now) => put.immediate(username, keyHash, record, now),
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

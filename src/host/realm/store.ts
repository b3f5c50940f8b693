/**
 * A realm's storage on SQLite (better-sqlite3, WAL): one row per user id holding the auth
 * verifier, the encoded realm record (NULL once destroyed), the wrong-guess counter, whether an
 * evaluation is pending, when the last evaluation was answered and when the current run of wrong
 * guesses began (DESIGN.md §7, SECURITY.md P23, P38: the delays and alerts survive a restart).
 *
 * Atomicity: `transact` runs read -> pure function -> write for ONE user inside one
 * `BEGIN IMMEDIATE` transaction. better-sqlite3 is synchronous, so nothing interleaves within a
 * process, and IMMEDIATE takes the write lock before the read, so two processes sharing the file
 * serialise too (the second waits up to busy_timeout). A counter therefore never loses an update.
 *
 * Deletion is real deletion (P23/P24): `secure_delete` zeroes freed cells in the database file,
 * and `scrub()` truncates the WAL, which still holds old page images, after a record is destroyed.
 * This module knows nothing of HTTP or of the request codecs, and never sees a PIN.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRealmRecord, encodeRealmRecord } from '../../lib/crypto/pin/record';
import type { RealmState } from '../../lib/crypto/pin/realm';
import { tuneSqlite } from '../storage/sqlite-file';

export interface UserRow {
  verifier: Uint8Array;
  state: RealmState;
}

interface RawRow {
  verifier: Uint8Array;
  record: Uint8Array | null;
  attempts: number;
  pending: number;
  last_eval_at: number;
  failing_since: number | null;
}

export interface RealmStore {
  /** Applies `fn` to the user's row atomically; `fn` returns the row to write (or none) and a result. */
  transact<T>(userId: Uint8Array, fn: (row: UserRow | undefined) => { write?: UserRow; result: T }): T;
  /** Removes old page images of destroyed records from the WAL (best effort if another reader holds it). */
  scrub(): void;
  close(): void;
}

export const REALM_DB_FILE = 'realm.sqlite';

function toRow(raw: RawRow): UserRow {
  const verifier = new Uint8Array(raw.verifier);
  if (raw.record === null) return { verifier, state: { status: 'destroyed' } };
  return {
    verifier,
    state: {
      status: 'registered',
      record: decodeRealmRecord(new Uint8Array(raw.record)),
      attempts: raw.attempts,
      evaluationPending: raw.pending === 1,
      lastEvaluationAt: raw.last_eval_at,
      failingSince: raw.failing_since
    }
  };
}

export function openRealmStore(opts: { dataDir: string } | { db: Database.Database }): RealmStore {
  const owned = 'dataDir' in opts;
  if (owned) mkdirSync(opts.dataDir, { recursive: true });
  const db = owned ? new Database(join(opts.dataDir, REALM_DB_FILE)) : opts.db;
  // WAL, synchronous=FULL: a counter increment must survive a crash once its response has gone out.
  tuneSqlite(db, { secureDelete: true });
  db.exec(`CREATE TABLE IF NOT EXISTS realm_users (
    user_id BLOB PRIMARY KEY NOT NULL,
    verifier BLOB NOT NULL,
    record BLOB,
    attempts INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    last_eval_at INTEGER NOT NULL DEFAULT 0,
    failing_since INTEGER
  ) STRICT, WITHOUT ROWID`);
  // Realms created before the P38 delays lack the two time columns.
  const columns = new Set((db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('realm_users') as string[]));
  if (!columns.has('last_eval_at')) db.exec('ALTER TABLE realm_users ADD COLUMN last_eval_at INTEGER NOT NULL DEFAULT 0');
  if (!columns.has('failing_since')) db.exec('ALTER TABLE realm_users ADD COLUMN failing_since INTEGER');

  const select = db.prepare<[Uint8Array], RawRow>('SELECT verifier, record, attempts, pending, last_eval_at, failing_since FROM realm_users WHERE user_id = ?');
  const upsert = db.prepare<[Uint8Array, Uint8Array, Uint8Array | null, number, number, number, number | null]>(
    `INSERT INTO realm_users (user_id, verifier, record, attempts, pending, last_eval_at, failing_since) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(user_id) DO UPDATE SET verifier = excluded.verifier, record = excluded.record,
       attempts = excluded.attempts, pending = excluded.pending, last_eval_at = excluded.last_eval_at,
       failing_since = excluded.failing_since`
  );

  function write(userId: Uint8Array, row: UserRow): void {
    const s = row.state;
    if (s.status === 'destroyed') upsert.run(userId, row.verifier, null, 0, 0, 0, null);
    else upsert.run(userId, row.verifier, encodeRealmRecord(s.record), s.attempts, s.evaluationPending ? 1 : 0, s.lastEvaluationAt, s.failingSince);
  }

  return {
    transact(userId, fn) {
      const txn = db.transaction(() => {
        const raw = select.get(userId);
        const out = fn(raw ? toRow(raw) : undefined);
        if (out.write) write(userId, out.write);
        return out.result;
      });
      return txn.immediate();
    },
    scrub() {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    close() {
      if (owned) db.close();
    }
  };
}

/**
 * Binding a database to a key kept outside it (README "Usernames at rest"): the database holds
 * the key's check value (an HMAC under the key, which reveals nothing of it) in a one-row table,
 * and meeting another key is an error, never a silent second keyspace. Shared by the name seal
 * (seal-stored-names.ts) and the realm id key (realm-ids.ts).
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { bytesEqual } from '../../lib/codec/bytes';

export interface KeyBinding {
  /** The one-row table that holds the check value. */
  table: string;
  check: Uint8Array;
  mismatch: () => Error;
}

const create = (b: KeyBinding, bytes: string): string => `CREATE TABLE IF NOT EXISTS ${b.table} (id integer PRIMARY KEY CHECK (id = 1), key_check ${bytes} NOT NULL)`;

/** True if the SQLite database is bound to this key already (throws if to another). */
export function sqliteBound(db: Database.Database, b: KeyBinding): boolean {
  db.exec(create(b, 'BLOB'));
  const row = db.prepare(`SELECT key_check FROM ${b.table} WHERE id = 1`).get() as { key_check: Buffer } | undefined;
  if (row && !bytesEqual(new Uint8Array(row.key_check), b.check)) throw b.mismatch();
  return row !== undefined;
}

/**
 * After values were rewritten at binding: VACUUM, then a TRUNCATE checkpoint, so the old values
 * leave the freed pages and the WAL of the live files.
 */
export function compactSqlite(db: Database.Database): void {
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** Stores the check value unless one is there; then the stored one must be ours (a racing process may have won). */
export function sqliteBind(db: Database.Database, b: KeyBinding): void {
  db.prepare(`INSERT OR IGNORE INTO ${b.table} (id, key_check) VALUES (1, ?)`).run(Buffer.from(b.check));
  if (!sqliteBound(db, b)) throw new Error(`${b.table}: the check value was not stored`);
}

/**
 * In one PostgreSQL transaction under an advisory lock (instances starting together wait for
 * each other): if no key is bound yet, runs `first` and binds ours; returns what `first` returned,
 * or undefined when this key was bound already.
 */
export async function pgBindOnce<T>(pool: pg.Pool, b: KeyBinding, first: (c: pg.PoolClient) => Promise<T>): Promise<T | undefined> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [b.table]);
    await c.query(create(b, 'bytea'));
    const row = (await c.query<{ key_check: Buffer }>(`SELECT key_check FROM ${b.table} WHERE id = 1`)).rows[0];
    let out: T | undefined;
    if (row) {
      if (!bytesEqual(new Uint8Array(row.key_check), b.check)) throw b.mismatch();
    } else {
      out = await first(c);
      await c.query(`INSERT INTO ${b.table} (id, key_check) VALUES (1, $1)`, [Buffer.from(b.check)]);
    }
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

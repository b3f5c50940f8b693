/**
 * PostgreSQL plumbing shared by the host's and the realm's adapters: a connection pool whose
 * 64-bit integers (ids, millisecond times) arrive as JS numbers, a transaction helper that
 * retries on serialization failures and deadlocks (both mean "nothing happened, run again"), and
 * versioned migrations guarded by an advisory lock so instances starting together migrate once.
 * Knows nothing of what the tables mean.
 */
import pg from 'pg';
import { StorageFullError } from '../types';

/** int8 as number: every id and time we store stays far below 2^53; larger is a corrupt row. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${text} is beyond 2^53`);
  return n;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser']
};

export interface PoolOptions {
  /** Connections at most (default 8: a host instance needs few; PostgreSQL's own limit is shared). */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

export function createPool(url: string, o: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: o.max ?? 8, types, application_name: o.applicationName ?? 'parley-host', idleTimeoutMillis: 30_000 });
  // An idle connection that breaks (server restart) is dropped and replaced on next use; without
  // a listener the pool's 'error' event would end the process.
  pool.on('error', () => {});
  return pool;
}

const RETRYABLE = new Set(['40001', '40P01']);
const codeOf = (e: unknown): string | undefined => (typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined);

/** Runs `fn` inside BEGIN/COMMIT on one pooled connection; retries a few times on 40001/40P01. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const c = await pool.connect();
    let broken = false;
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      try {
        await c.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (attempt >= attempts || !RETRYABLE.has(codeOf(e) ?? '')) throw storageError(e);
    } finally {
      c.release(broken);
    }
  }
}

/** Advisory-lock namespace (first key of pg_advisory_xact_lock(int4, int4)) for our migrations. */
const MIGRATION_LOCK = 0x7061726c; // 'parl'

/**
 * Applies `migrations` newer than the version recorded in `track` (a one-row table), each in its
 * own transaction with the version bump, under an advisory lock; returns the resulting version.
 * A database newer than this code is refused. Append migrations; never edit a shipped one.
 */
export async function migrate(pool: pg.Pool, track: string, migrations: readonly string[]): Promise<number> {
  const table = pg.escapeIdentifier(track);
  for (;;) {
    const done = await inTransaction(pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, track]);
      await c.query(`CREATE TABLE IF NOT EXISTS ${table} (version integer NOT NULL)`);
      const r = await c.query<{ version: number }>(`SELECT version FROM ${table}`);
      if (r.rowCount === 0) await c.query(`INSERT INTO ${table} (version) VALUES (0)`);
      const current = r.rows[0]?.version ?? 0;
      if (current > migrations.length) throw new Error(`database schema ${track} version ${current} is newer than this host (${migrations.length})`);
      if (current === migrations.length) return true;
      await c.query(migrations[current]!);
      await c.query(`UPDATE ${table} SET version = $1`, [current + 1]);
      return false;
    });
    if (done) return migrations.length;
  }
}

/** A Buffer view of bytes from the driver, as the Uint8Array the port speaks (a copy, detached from the pool's buffers). */
export const bytes = (b: Buffer): Uint8Array => new Uint8Array(b);

/** SQLSTATE class 53 disk_full: the store has no room (P40), reported as the port's StorageFullError. */
export function storageError(e: unknown): unknown {
  return codeOf(e) === '53100' ? new StorageFullError('PostgreSQL disk_full') : e;
}

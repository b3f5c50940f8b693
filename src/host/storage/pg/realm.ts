/**
 * A PIN realm's storage on PostgreSQL (realm-port.ts; DESIGN.md §7, P23), for an operator who
 * runs a realm on a database server. Its own migration track and tables: a realm shares nothing
 * with a host, and should have its own database.
 *
 * Atomicity: `transact` takes a transaction-scoped advisory lock on the user id before reading,
 * so read -> fn -> write for one user is serialised across every process on the database, even
 * for a user id that has no row yet (a row lock could not cover that). Different users proceed
 * in parallel (two ids sharing a 32-bit lock key only wait for each other).
 *
 * Deletion is weaker than SQLite's (P23/P24 "real deletion"): a destroyed record's old row
 * version stays in the table file until VACUUM makes its space reusable, and in WAL segments
 * until they are recycled; neither overwrites the bytes. `scrub` runs VACUUM on the table. An
 * operator who needs destroyed shares gone from disk runs the realm on SQLite (the default).
 */
import { createHash } from 'node:crypto';
import { decodeRealmRecord, encodeRealmRecord } from '../../../lib/crypto/pin/record';
import type { RealmStorage, UserRow } from '../realm-port';
import { createPool, inTransaction, migrate, type PoolOptions } from './client';

export const REALM_SCHEMA_TRACK = 'parley_realm_schema';

export const REALM_MIGRATIONS: readonly string[] = [
  `CREATE TABLE realm_users (
     user_id bytea PRIMARY KEY,
     verifier bytea NOT NULL,
     record bytea,
     attempts integer NOT NULL,
     pending boolean NOT NULL
   );`,
  // P38: growing delays and "N wrong attempts since ..." survive a restart.
  `ALTER TABLE realm_users ADD COLUMN last_eval_at bigint NOT NULL DEFAULT 0;
   ALTER TABLE realm_users ADD COLUMN failing_since bigint;`
];

/** Advisory-lock namespace (first key) for realm users; the second key is from the user id. */
const REALM_LOCK = 0x7265616c; // 'real'

const lockKey = (userId: Uint8Array): number => createHash('sha256').update(userId).digest().readInt32BE(0);

interface RawRow {
  verifier: Buffer;
  record: Buffer | null;
  attempts: number;
  pending: boolean;
  last_eval_at: string | number;
  failing_since: string | number | null;
}

function toRow(raw: RawRow): UserRow {
  const verifier = new Uint8Array(raw.verifier);
  if (raw.record === null) return { verifier, state: { status: 'destroyed' } };
  return {
    verifier,
    state: {
      status: 'registered',
      record: decodeRealmRecord(new Uint8Array(raw.record)),
      attempts: raw.attempts,
      evaluationPending: raw.pending,
      // bigint columns arrive as strings from node-postgres.
      lastEvaluationAt: Number(raw.last_eval_at),
      failingSince: raw.failing_since === null ? null : Number(raw.failing_since)
    }
  };
}

export async function openPgRealmStore(url: string, o: PoolOptions = {}): Promise<RealmStorage> {
  const pool = createPool(url, { applicationName: 'parley-realm', ...o });
  try {
    await migrate(pool, REALM_SCHEMA_TRACK, REALM_MIGRATIONS);
  } catch (e) {
    await pool.end();
    throw e;
  }
  return {
    backend: 'postgres',
    transact: (userId, fn) =>
      inTransaction(pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [REALM_LOCK, lockKey(userId)]);
        const r = await c.query<RawRow>('SELECT verifier, record, attempts, pending, last_eval_at, failing_since FROM realm_users WHERE user_id = $1', [userId]);
        const out = fn(r.rows[0] ? toRow(r.rows[0]) : undefined);
        const w = out.write;
        if (w) {
          const s = w.state;
          const [record, attempts, pending, lastEvalAt, failingSince] =
            s.status === 'destroyed' ? [null, 0, false, 0, null] : [encodeRealmRecord(s.record), s.attempts, s.evaluationPending, s.lastEvaluationAt, s.failingSince];
          await c.query(
            `INSERT INTO realm_users (user_id, verifier, record, attempts, pending, last_eval_at, failing_since) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (user_id) DO UPDATE SET verifier = excluded.verifier, record = excluded.record,
               attempts = excluded.attempts, pending = excluded.pending, last_eval_at = excluded.last_eval_at,
               failing_since = excluded.failing_since`,
            [userId, w.verifier, record, attempts, pending, lastEvalAt, failingSince]
          );
        }
        return out.result;
      }),
    async scrub() {
      await pool.query('VACUUM realm_users');
    },
    close: () => pool.end()
  };
}

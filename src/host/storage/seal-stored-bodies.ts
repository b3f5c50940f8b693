/**
 * Binds a database to its envelope key and seals the bodies a database from before
 * "Envelopes at rest" still holds in clear (envelope-seal.ts). Runs once per start, after the
 * name seal (seal-stored-names.ts) and before the stores open. Unlike names, a body's seal is randomised, so sealing twice would
 * not be idempotent: the rows are sealed and the key's check value stored in ONE transaction,
 * and a database that holds the check value is never sealed again. Mailbox byte counters grow
 * by the seal's overhead per envelope in the same transaction. What was rewritten is compacted
 * as for names.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { ENVELOPE_SEAL_OVERHEAD, type EnvelopeSeal } from './envelope-seal';
import { compactSqlite, pgBindOnce, sqliteBind, sqliteBound, type KeyBinding } from './key-check';
import { DB_FILE } from './sqlite';

export class EnvelopeKeyMismatchError extends Error {
  constructor() {
    super('this database holds envelopes sealed under another name key: give every host instance the same NAME_KEY or NAME_KEY_FILE (README "Envelopes at rest")');
    this.name = 'EnvelopeKeyMismatchError';
  }
}

const binding = (s: EnvelopeSeal): KeyBinding => ({ table: 'envelope_key', check: s.check, mismatch: () => new EnvelopeKeyMismatchError() });
const PG_CHUNK = 500;

/** The SQLite host file in dataDir; returns how many bodies were sealed. */
export function sealSqliteBodies(dataDir: string, s: EnvelopeSeal): number {
  const db = new Database(join(dataDir, DB_FILE));
  try {
    db.pragma('secure_delete = ON');
    if (sqliteBound(db, binding(s))) return 0;
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'envelopes'").get() !== undefined;
    db.function('parley_seal_body', { deterministic: false }, (at: unknown, body: unknown) => Buffer.from(s.seal([{ receivedAt: Number(at), body: body as Buffer }])[0]!));
    db.function('parley_coarse', { deterministic: true }, (at: unknown) => s.coarse(Number(at)));
    const run = db.transaction((): number => {
      const changed = hasTable
        ? db.prepare('UPDATE envelopes SET body = parley_seal_body(received_at, body), received_at = parley_coarse(received_at)').run().changes
        : 0;
      sqliteBind(db, binding(s));
      return changed;
    });
    const changed = run();
    if (changed > 0) compactSqlite(db);
    return changed;
  } finally {
    db.close();
  }
}

/** The host's PostgreSQL database; returns how many bodies were sealed. */
export async function sealPgBodies(pool: pg.Pool, s: EnvelopeSeal): Promise<number> {
  const changed =
    (await pgBindOnce(pool, binding(s), async (c) => {
      if ((await c.query<{ r: string | null }>("SELECT to_regclass('envelopes') AS r")).rows[0]?.r == null) return 0;
      let count = 0;
      for (let after = 0; ; ) {
        const rows = (await c.query<{ id: string; received_at: string; body: Buffer }>('SELECT id, received_at, body FROM envelopes WHERE id > $1 ORDER BY id LIMIT $2', [after, PG_CHUNK])).rows;
        if (rows.length === 0) break;
        const sealed = s.seal(rows.map((r) => ({ receivedAt: Number(r.received_at), body: r.body })));
        await c.query(
          `UPDATE envelopes AS e SET body = u.body, received_at = u.at
             FROM unnest($1::bigint[], $2::bytea[], $3::bigint[]) AS u (id, body, at) WHERE e.id = u.id`,
          [rows.map((r) => r.id), sealed.map((b) => Buffer.from(b)), rows.map((r) => s.coarse(Number(r.received_at)))]
        );
        count += rows.length;
        after = Number(rows[rows.length - 1]!.id);
      }
      if (count > 0) {
        for (const t of ['mailbox_usage', 'mailbox_sender_usage']) {
          if ((await c.query<{ r: string | null }>('SELECT to_regclass($1) AS r', [t])).rows[0]?.r != null) await c.query(`UPDATE ${t} SET bytes = bytes + $1::bigint * envelopes`, [ENVELOPE_SEAL_OVERHEAD]);
        }
      }
      return count;
    })) ?? 0;
  // The clear bodies' dead row versions leave the live files (README "Usernames at rest" on WAL).
  if (changed > 0) await pool.query('VACUUM FULL envelopes');
  return changed;
}

/**
 * Binds a database to its name key, and seals the usernames a database from before name sealing
 * still holds in clear (name-seal.ts; README "Usernames at rest"). Runs once per start, before
 * the stores open:
 * - The database keeps the key's check value. Another key is a startup error (instances of one
 *   deployment given different keys would each miss the others' accounts), never a silent split.
 * - Without a check value (a new database, or one from before sealing), every username column
 *   that exists is sealed in place, rate windows (whose keys embed names) are dropped, and only
 *   then is the check value stored: a crash part way leaves it absent and the next start
 *   finishes (sealing skips values already sealed, so it is idempotent).
 * - What was rewritten is compacted (SQLite VACUUM and a truncated WAL; PostgreSQL VACUUM FULL),
 *   so the old names do not linger in freed pages of the live files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { compactSqlite, pgBindOnce, sqliteBind, sqliteBound, type KeyBinding } from './key-check';
import { isSealedName, NameSealError, type NameSeal } from './name-seal';
import { DB_FILE } from './sqlite';
import { BLOBS_FILE } from './sqlite-blobs';
import { PUSH_FILE } from './sqlite-push';
import { RECORDS_FILE } from './sqlite-records';
import { SEALED_FILE } from './sqlite-sealed';

type Columns = readonly (readonly [table: string, column: string])[];

/** Every username column of the SQLite files, per file. */
const SQLITE_COLUMNS: Readonly<Record<string, Columns>> = {
  [DB_FILE]: [
    ['accounts', 'username'],
    ['signed_prekeys', 'username'],
    ['one_time_prekeys', 'username'],
    ['kem_prekeys', 'username'],
    ['tokens', 'username'],
    ['envelopes', 'recipient'],
    ['envelopes', 'sender'],
    ['device_gates', 'username']
  ],
  [RECORDS_FILE]: [
    ['account_records', 'username'],
    ['devices', 'username']
  ],
  [PUSH_FILE]: [['push_subscriptions', 'username']],
  [SEALED_FILE]: [['sealed_access', 'username']],
  [BLOBS_FILE]: [['blobs', 'owner']]
};

/** The PostgreSQL tables that reference accounts(username): re-pointed while both rows exist. */
const PG_ACCOUNT_CHILDREN: Columns = [
  ['signed_prekeys', 'username'],
  ['one_time_prekeys', 'username'],
  ['kem_prekeys', 'username'],
  ['tokens', 'username']
];
/** The other PostgreSQL username columns (no foreign key to accounts). */
const PG_OTHER: Columns = [
  ['envelopes', 'recipient'],
  ['envelopes', 'sender'],
  ['mailbox_usage', 'username'],
  ['mailbox_sender_usage', 'username'],
  ['mailbox_sender_usage', 'sender'],
  ['account_records', 'username'],
  ['devices', 'username'],
  ['push_subscriptions', 'username'],
  ['sealed_access', 'username'],
  ['attachment_blobs', 'owner']
];

export class NameKeyMismatchError extends Error {
  constructor() {
    super('this database was sealed under another name key: give every host instance the same NAME_KEY or NAME_KEY_FILE (README "Usernames at rest")');
    this.name = 'NameKeyMismatchError';
  }
}

const binding = (n: NameSeal): KeyBinding => ({ table: 'name_key', check: n.check, mismatch: () => new NameKeyMismatchError() });

function sealValue(n: NameSeal, v: unknown): unknown {
  if (typeof v !== 'string' || v === '' || isSealedName(v)) return v;
  try {
    return n.seal(v);
  } catch (e) {
    throw e instanceof NameSealError ? new Error(`cannot seal a stored name that is not a canonical username (${v.length} chars)`) : e;
  }
}

/** SQLite files in dataDir; returns how many values were sealed. */
export function sealSqliteNames(dataDir: string, n: NameSeal): number {
  const main = new Database(join(dataDir, DB_FILE));
  try {
    if (sqliteBound(main, binding(n))) return 0;
    let sealed = 0;
    for (const [file, columns] of Object.entries(SQLITE_COLUMNS)) {
      const path = join(dataDir, file);
      if (file !== DB_FILE && !existsSync(path)) continue;
      const db = file === DB_FILE ? main : new Database(path);
      try {
        sealed += sealSqliteFile(db, columns, n);
      } finally {
        if (db !== main) db.close();
      }
    }
    sqliteBind(main, binding(n));
    return sealed;
  } finally {
    main.close();
  }
}

function sealSqliteFile(db: Database.Database, columns: Columns, n: NameSeal): number {
  db.function('parley_seal_name', { deterministic: true }, (v: unknown) => sealValue(n, v) as string);
  const exists = (t: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
  const run = db.transaction(() => {
    db.pragma('defer_foreign_keys = ON');
    let changed = 0;
    for (const [t, c] of columns) {
      if (!exists(t)) continue;
      changed += db.prepare(`UPDATE ${t} SET ${c} = parley_seal_name(${c}) WHERE ${c} <> '' AND substr(${c}, 1, 1) <> '~'`).run().changes;
    }
    return changed;
  });
  const changed = run();
  if (changed > 0) compactSqlite(db);
  return changed;
}

/** The host's PostgreSQL database; returns how many values were sealed. */
export async function sealPgNames(pool: pg.Pool, n: NameSeal): Promise<number> {
  const touched = new Set<string>();
  const changed =
    (await pgBindOnce(pool, binding(n), async (c) => {
      let count = 0;
      const exists = async (t: string): Promise<boolean> => (await c.query<{ r: string | null }>('SELECT to_regclass($1) AS r', [t])).rows[0]?.r != null;
      const present = async (cols: Columns): Promise<Columns> => {
        const out: (readonly [string, string])[] = [];
        for (const tc of cols) if (await exists(tc[0])) out.push(tc);
        return out;
      };
      const children = await present(PG_ACCOUNT_CHILDREN);
      const others = await present(PG_OTHER);
      const hasAccounts = await exists('accounts');
      const all: Columns = [...(hasAccounts ? [['accounts', 'username'] as const] : []), ...children, ...others];
      const clear = new Set<string>();
      for (const [t, col] of all) {
        const r = await c.query<{ v: string }>(`SELECT DISTINCT ${col} AS v FROM ${t} WHERE ${col} <> '' AND left(${col}, 1) <> '~'`);
        for (const { v } of r.rows) clear.add(v);
      }
      if (clear.size > 0) {
        const names = [...clear];
        await c.query('CREATE TEMP TABLE name_map (clear text PRIMARY KEY, sealed text NOT NULL) ON COMMIT DROP');
        await c.query('INSERT INTO name_map SELECT * FROM unnest($1::text[], $2::text[])', [names, names.map((v) => sealValue(n, v))]);
        // accounts(username) is referenced without ON UPDATE: copy each row under its sealed name,
        // re-point the children, then drop the clear row.
        if (hasAccounts) {
          const cols = (await c.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'accounts' AND column_name <> 'username'")).rows.map((r) => r.column_name);
          const rest = cols.map((x) => `a.${x}`).join(', ');
          count += (await c.query(`INSERT INTO accounts (username${cols.map((x) => `, ${x}`).join('')}) SELECT m.sealed${rest ? `, ${rest}` : ''} FROM accounts a JOIN name_map m ON m.clear = a.username`)).rowCount ?? 0;
          touched.add('accounts');
        }
        for (const [t, col] of [...children, ...others]) {
          const r = await c.query(`UPDATE ${t} AS t SET ${col} = m.sealed FROM name_map m WHERE t.${col} = m.clear`);
          count += r.rowCount ?? 0;
          if (r.rowCount) touched.add(t);
        }
        if (hasAccounts) await c.query('DELETE FROM accounts a USING name_map m WHERE a.username = m.clear');
      }
      if (await exists('rate_windows')) await c.query('DELETE FROM rate_windows');
      return count;
    })) ?? 0;
  // Rewrites the tables so the clear rows' dead versions leave the live files (not the WAL
  // segments PostgreSQL already archived or recycles later: README "Usernames at rest").
  for (const t of touched) await pool.query(`VACUUM FULL ${t}`);
  return changed;
}

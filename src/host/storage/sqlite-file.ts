/**
 * Opening one of the host's SQLite files (DESIGN.md §5, §9): the pragmas every file runs with and
 * its `user_version` migrations. WAL with synchronous=FULL, so a committed write survives a crash
 * once its response has gone out; a 5 s busy timeout, so a second process (or the writer thread)
 * queues on the write lock instead of failing. `PRAGMA user_version` records how many of the
 * file's migrations ran; each runs once, in order, inside one transaction with its version bump,
 * and a file newer than this code is refused. Each store keeps its own migrations (append only;
 * never edit a shipped one). Knows nothing of what a store keeps.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SqliteFileOptions {
  /** The schema's name in errors ("blob schema version 3 is newer than this host (2)"). */
  schema: string;
  /** Deleted or replaced rows are overwritten in the file, not left in free pages (P43). */
  secureDelete?: boolean;
  /** Enforce REFERENCES clauses. */
  foreignKeys?: boolean;
}

/** The pragmas every host SQLite connection runs with (also for a database opened elsewhere). */
export function tuneSqlite(db: Database.Database, opts: Omit<SqliteFileOptions, 'schema'> = {}): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  if (opts.foreignKeys) db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  if (opts.secureDelete) db.pragma('secure_delete = ON');
}

/** Runs every migration newer than the file; returns the resulting version. */
export function migrateSqlite(db: Database.Database, migrations: readonly string[], schema: string): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`${schema} schema version ${current} is newer than this host (${migrations.length})`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return migrations.length;
}

/** Opens (creating its folder and file if need be) and migrates the SQLite file at `path`. */
export function openSqliteFile(path: string, migrations: readonly string[], opts: SqliteFileOptions): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  tuneSqlite(db, opts);
  migrateSqlite(db, migrations, opts.schema);
  return db;
}

/**
 * The two HostStore adapters as test fixtures, so one contract suite runs against both: SQLite
 * on a temp file (one process: both handles are the same store) and PostgreSQL on a throwaway
 * cluster (tests/support/postgres.ts), one fresh database per test with TWO independent stores
 * on it, as two host instances would have. Nothing is mocked.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { openPgStore } from '../../src/host/storage/pg/store';
import { HOST_SCHEMA_TRACK } from '../../src/host/storage/pg/schema';
import type { HostStore } from '../../src/host/storage/port';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { openSqliteStore } from '../../src/host/storage/sqlite-store';
import { startPostgres, type PgCluster } from '../support/postgres';
import { tempDir } from './support';

export interface StoreFixture {
  /** Two handles: two instances on PostgreSQL, the one store twice on SQLite. */
  a: HostStore;
  b: HostStore;
  /** Closes both handles and opens the same data again. */
  reopen(): Promise<HostStore>;
  /**
   * Starts `calls` while the mailbox of `username` is locked by a third party (PostgreSQL: a
   * test connection holding its usage row FOR UPDATE until every call waits on a lock), so the
   * calls are sure to overlap; on SQLite (one process) they simply run together.
   */
  contend<T>(username: string, calls: () => Promise<T>[]): Promise<T[]>;
  /** Marks the stored schema as one version newer than this code knows. */
  bumpSchema(to: number): Promise<void>;
  close(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** True when the two handles are separate instances (real cross-instance races). */
  multiInstance: boolean;
  open(): Promise<StoreFixture>;
}

type Contend = StoreFixture['contend'];

function fixture(open: () => Promise<HostStore>, bump: (to: number) => Promise<void>, twoHandles: boolean, contend: Contend): Promise<StoreFixture> {
  const live: HostStore[] = [];
  const opened = async () => {
    const s = await open();
    live.push(s);
    return s;
  };
  const closeAll = async () => {
    for (const s of live.splice(0)) await s.close();
  };
  return (async () => {
    const a = await opened();
    const b = twoHandles ? await opened() : a;
    return {
      a,
      b,
      async reopen() {
        await closeAll();
        return opened();
      },
      bumpSchema: bump,
      contend,
      close: closeAll
    };
  })();
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  multiInstance: false,
  open() {
    const dir = tempDir('parley-store-');
    return fixture(
      async () => openSqliteStore(dir),
      async (to) => {
        const db = new Database(join(dir, DB_FILE));
        db.pragma(`user_version = ${to}`);
        db.close();
      },
      false,
      (_username, calls) => Promise.all(calls())
    );
  }
};

let cluster: Promise<PgCluster> | undefined;
afterAll(async () => {
  if (cluster) await (await cluster).destroy();
}, 60_000);

/**
 * One cluster per test file, started on first use. Without fsync: these tests are about
 * semantics and races, not power loss, and a fresh database per test is cheaper unsynced
 * (a process crash loses nothing either way: the kernel has the writes).
 */
export function sharedCluster(): Promise<PgCluster> {
  cluster ??= startPostgres({ fsync: false });
  return cluster;
}

export const postgresBackend: Backend = {
  name: 'postgres',
  multiInstance: true,
  async open() {
    const url = await (await sharedCluster()).createDatabase();
    return fixture(
      () => openPgStore(url, { max: 4 }),
      async (to) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`UPDATE ${pg.escapeIdentifier(HOST_SCHEMA_TRACK)} SET version = $1`, [to]);
        await c.end();
      },
      true,
      (username, calls) => contendOnPostgres(url, username, calls)
    );
  }
};

async function contendOnPostgres<T>(url: string, username: string, calls: () => Promise<T>[]): Promise<T[]> {
  const holder = new pg.Client({ connectionString: url });
  const watcher = new pg.Client({ connectionString: url });
  await holder.connect();
  await watcher.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM mailbox_usage WHERE username = $1 FOR UPDATE', [username]);
    const running = calls();
    const settled = Promise.allSettled(running);
    // Every call's statement is inside the database and blocked on a lock (ours, or a fellow
    // call's) before we let go: only then is their overlap certain.
    for (;;) {
      const r = await watcher.query<{ n: number }>(
        "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
      );
      if (r.rows[0]!.n >= Math.min(running.length, 2)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await holder.query('COMMIT');
    await settled;
    return await Promise.all(running);
  } finally {
    await holder.end();
    await watcher.end();
  }
}

export const backends: Backend[] = [sqliteBackend, postgresBackend];

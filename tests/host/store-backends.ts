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

function fixture(open: () => Promise<HostStore>, bump: (to: number) => Promise<void>, twoHandles: boolean): Promise<StoreFixture> {
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
      false
    );
  }
};

let cluster: Promise<PgCluster> | undefined;
afterAll(async () => {
  if (cluster) await (await cluster).destroy();
});

/** One cluster per test file, started on first use. */
export function sharedCluster(): Promise<PgCluster> {
  cluster ??= startPostgres();
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
      true
    );
  }
};

export const backends: Backend[] = [sqliteBackend, postgresBackend];

/**
 * Chooses the storage adapter from the environment (README "Host configuration"): with
 * DATABASE_URL (`postgres://…`) the host and its realm run on PostgreSQL, shareable by several
 * host instances; without it, on SQLite files under DATA_DIR (one process). Anything else in
 * DATABASE_URL is a startup error, never a silent fallback to SQLite.
 */
import { openPgRealmStore } from './pg/realm';
import { openPgStore } from './pg/store';
import type { HostStore } from './port';
import type { RealmStorage } from './realm-port';
import { openSqliteRealmStorage } from './sqlite-realm';
import { openSqliteStore } from './sqlite-store';

export interface StoreLocation {
  /** postgres:// or postgresql:// URL; absent: SQLite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
}

function postgresUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
  return url;
}

export function storeLocationFromEnv(env: Record<string, string | undefined>, dataDir: string): StoreLocation {
  return { databaseUrl: postgresUrl(env.DATABASE_URL), dataDir };
}

export async function openHostStore(at: StoreLocation): Promise<HostStore> {
  const url = postgresUrl(at.databaseUrl);
  return url ? openPgStore(url) : openSqliteStore(at.dataDir);
}

export async function openRealmStorage(at: StoreLocation): Promise<RealmStorage> {
  const url = postgresUrl(at.databaseUrl);
  return url ? openPgRealmStore(url) : openSqliteRealmStorage(at.dataDir);
}

/**
 * A PIN realm's storage on SQLite in the async realm port (realm-port.ts): the existing store
 * (realm/store.ts, WAL, secure_delete, BEGIN IMMEDIATE per user) unchanged underneath. Its
 * `transact` is synchronous, so read -> fn -> write cannot interleave with anything in this
 * process, and IMMEDIATE serialises other processes on the file (P23).
 */
import { openRealmStore } from '../realm/store';
import type { RealmStorage } from './realm-port';

export function openSqliteRealmStorage(dataDir: string): RealmStorage {
  const store = openRealmStore({ dataDir });
  return {
    backend: 'sqlite',
    transact: async (userId, fn) => store.transact(userId, fn),
    scrub: async () => store.scrub(),
    close: async () => store.close()
  };
}

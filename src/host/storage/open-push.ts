/**
 * Opens the Web Push store (push-port.ts) where the host keeps everything else (open.ts): a
 * `push.sqlite` file in DATA_DIR, or with DATABASE_URL its own tables in the same PostgreSQL on a
 * pool of its own (two connections: a registration or an endpoint lookup now and then).
 */
import { createPool } from './pg/client';
import { openPgPush } from './pg/push';
import type { StoreLocation } from './open';
import type { PushStore } from './push-port';
import { sealNamesInPush } from './sealed-names';
import { openSqlitePush } from './sqlite-push';

/** With a name key (open.ts `names`), the store sees usernames only sealed. */
export async function openPushStore(at: StoreLocation): Promise<PushStore> {
  const store = await openRawPushStore(at);
  return at.names ? sealNamesInPush(store, at.names) : store;
}

async function openRawPushStore(at: StoreLocation): Promise<PushStore> {
  const url = at.databaseUrl;
  if (url === undefined || url === '') return openSqlitePush(at.dataDir);
  const pool = createPool(url, { max: 2, applicationName: 'parley-host-push' });
  try {
    const store = await openPgPush(pool);
    return { ...store, close: () => pool.end() };
  } catch (e) {
    await pool.end();
    throw e;
  }
}

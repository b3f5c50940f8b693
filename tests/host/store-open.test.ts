/**
 * Choosing and opening a store (src/host/storage/open.ts): DATABASE_URL selects PostgreSQL, its
 * absence SQLite, anything else is refused at startup. And the SQLite account-record file the
 * async store opens is the very file the running host writes (same tables, same version).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openHostStore, openRealmStorage, storeLocationFromEnv } from '../../src/host/storage/open';
import { RECORDS_FILE, openSqliteRecords } from '../../src/host/storage/sqlite-records';
import { hostNames, registerUser, startHost, tempDir } from './support';
import { sharedCluster } from './store-backends';
import { ACCOUNT_RECORD_PATH, RECORD_KEY_HEADER, TAKEOVER_KEY_HEADER } from '../../src/lib/wire/account-record-api';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { createHash } from 'node:crypto';

const schemaOf = (file: string): { sql: string; version: number } => {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare("SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const version = db.pragma('user_version', { simple: true }) as number;
  db.close();
  return { sql: rows.join(';\n'), version };
};

describe('opening a store', () => {
  test('DATABASE_URL picks PostgreSQL, no DATABASE_URL picks SQLite, another scheme is refused', async () => {
    const dataDir = tempDir();
    expect(() => storeLocationFromEnv({ DATABASE_URL: 'mysql://db/parley' }, dataDir)).toThrow(/postgres/);
    expect(storeLocationFromEnv({ DATABASE_URL: '' }, dataDir)).toEqual({ databaseUrl: undefined, dataDir });
    const lite = await openHostStore(storeLocationFromEnv({}, dataDir));
    expect(lite.backend).toBe('sqlite');
    await lite.close();
    const url = await (await sharedCluster()).createDatabase();
    const at = storeLocationFromEnv({ DATABASE_URL: url }, dataDir);
    const store = await openHostStore(at);
    expect(store.backend).toBe('postgres');
    await store.close();
    const realm = await openRealmStorage(at);
    expect(realm.backend).toBe('postgres');
    await realm.close();
  });

  test('P26 the async store reads the account-record file the running host wrote, in the same schema', async () => {
    const host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const accessKey = new Uint8Array(32).fill(7);
    const sealed = new Uint8Array(1 + 24 + 1024 + 16).fill(3);
    const res = await fetch(host.url + ACCOUNT_RECORD_PATH + 'alice', {
      method: 'PUT',
      headers: {
        [RECORD_KEY_HEADER]: toBase64Url(accessKey),
        // P37: every upload carries the takeover public key the record is fixed with.
        [TAKEOVER_KEY_HEADER]: toBase64Url(new Uint8Array(32).fill(8)),
        authorization: `Bearer ${toBase64Url(alice.token)}`,
        'content-type': 'application/octet-stream'
      },
      body: sealed
    });
    expect(res.status).toBe(200);
    await host.close();

    const records = openSqliteRecords(host.dataDir);
    const got = await records.getRecord(hostNames(host.dataDir).seal('alice')); // sealed at rest (README "Usernames at rest")
    records.close();
    expect(got?.record).toEqual(sealed);
    expect(got?.keyHash).toEqual(new Uint8Array(createHash('sha256').update(accessKey).digest()));
    const fresh = tempDir();
    openSqliteRecords(fresh).close();
    expect(schemaOf(join(fresh, RECORDS_FILE))).toEqual(schemaOf(join(host.dataDir, RECORDS_FILE)));
  });
});

/**
 * A realm's user ids at rest (src/host/storage/realm-ids.ts, README "Usernames at rest"): the
 * public SHA-256 of a username that clients name their row by is never a row key; a realm
 * database from before is rekeyed at the first start and then bound to its key (SQLite and
 * PostgreSQL); the built-in realm of a real host keys its rows too.
 */
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { openRealmStorage, type StoreLocation } from '../../src/host/storage/open';
import { builtInRealmIdKey, realmIdKey, RealmIdKeyMismatchError } from '../../src/host/storage/realm-ids';
import { nameKeyInDataDir } from '../../src/host/storage/name-key';
import { realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { scanDataDir } from '../support/scan-data-dir';
import { sharedCluster } from './store-backends';
import { startHost, tempDir } from './support';

const KEY_A = realmIdKey(new Uint8Array(32).fill(1));
const KEY_B = realmIdKey(new Uint8Array(32).fill(2));
const ALICE = realmUserId('alice_realm');
const BOB = realmUserId('bob_realm');

async function writeRow(at: StoreLocation, userId: Uint8Array, verifier: number, key?: typeof KEY_A): Promise<void> {
  const s = await openRealmStorage(at, key);
  try {
    await s.transact(userId, () => ({ write: { verifier: new Uint8Array(32).fill(verifier), state: { status: 'destroyed' } }, result: undefined }));
  } finally {
    await s.close();
  }
}

async function verifierOf(at: StoreLocation, userId: Uint8Array, key?: typeof KEY_A): Promise<number | undefined> {
  const s = await openRealmStorage(at, key);
  try {
    return await s.transact(userId, (row) => ({ result: row?.verifier[0] }));
  } finally {
    await s.close();
  }
}

describe('realm rows keyed by HMAC of the user id', () => {
  test('SQLite: no row key is the public id; an older realm is rekeyed, reachable, and bound to its key', async () => {
    const dataDir = tempDir();
    await writeRow({ dataDir }, ALICE, 7); // an older realm: the plain id
    expect(scanDataDir(dataDir, { alice: ALICE }).length).toBeGreaterThan(0);
    expect(await verifierOf({ dataDir }, ALICE, KEY_A)).toBe(7);
    await writeRow({ dataDir }, BOB, 8, KEY_A);
    expect(await verifierOf({ dataDir }, BOB, KEY_A)).toBe(8);
    expect(scanDataDir(dataDir, { alice: ALICE, bob: BOB })).toEqual([]);
    expect(scanDataDir(dataDir, { keyed: KEY_A.map(ALICE) }).length).toBeGreaterThan(0); // positive control
    await expect(openRealmStorage({ dataDir }, KEY_B)).rejects.toThrow(RealmIdKeyMismatchError);
    expect(await verifierOf({ dataDir }, ALICE, KEY_A)).toBe(7);
  });

  test('PostgreSQL: an older realm is rekeyed in place and bound to its key', async () => {
    const databaseUrl = await (await sharedCluster()).createDatabase();
    const at = { dataDir: tempDir(), databaseUrl };
    await writeRow(at, ALICE, 7);
    expect(await verifierOf(at, ALICE, KEY_A)).toBe(7);
    await writeRow(at, BOB, 8, KEY_A);
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      const ids = (await c.query<{ user_id: Buffer }>('SELECT user_id FROM realm_users')).rows.map((r) => new Uint8Array(r.user_id));
      expect(ids).toHaveLength(2);
      for (const id of ids) {
        expect(id).not.toEqual(ALICE);
        expect(id).not.toEqual(BOB);
      }
    } finally {
      await c.end();
    }
    await expect(openRealmStorage(at, KEY_B)).rejects.toThrow(RealmIdKeyMismatchError);
  });

  test('the built-in realm of a real host keys its rows by the key derived from the name key', async () => {
    const host = await startHost();
    const realmDir = join(host.dataDir, 'realm');
    await host.close();
    const key = realmIdKey(builtInRealmIdKey(nameKeyInDataDir(host.dataDir)));
    // The host bound the realm's file to that key: another key is refused, this one opens it.
    await expect(openRealmStorage({ dataDir: realmDir }, KEY_B)).rejects.toThrow(RealmIdKeyMismatchError);
    await writeRow({ dataDir: realmDir }, ALICE, 9, key);
    const again = await startHost({ dataDir: host.dataDir });
    await again.close();
    expect(await verifierOf({ dataDir: realmDir }, ALICE, key)).toBe(9);
    expect(scanDataDir(realmDir, { alice: ALICE })).toEqual([]);
  });
});

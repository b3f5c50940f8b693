/**
 * The realm storage contract (src/host/storage/realm-port.ts) on both adapters: SQLite (two
 * connections on one file, as two realm processes would have) and PostgreSQL (two pools on one
 * database). P23 depends on it: a guess counter must never lose an update, even for a user id
 * that has no row yet.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { RealmRecord } from '../../src/lib/crypto/pin/record';
import { decodeRealmRecord, encodeRealmRecord } from '../../src/lib/crypto/pin/record';
import { openPgRealmStore } from '../../src/host/storage/pg/realm';
import type { RealmStorage, UserRow } from '../../src/host/storage/realm-port';
import { openSqliteRealmStorage } from '../../src/host/storage/sqlite-realm';
import { sharedCluster } from './store-backends';
import { tempDir } from './support';

const scalar = (n: number) => {
  const s = new Uint8Array(32);
  s[0] = n;
  return s;
};

const record: RealmRecord = decodeRealmRecord(
  encodeRealmRecord({
    version: new Uint8Array(16).fill(1),
    oprfKeyShare: scalar(7),
    unlockCommitment: new Uint8Array(32).fill(2),
    unlockTag: new Uint8Array(32).fill(3),
    encryptedSecretShare: scalar(9),
    encryptedSecret: new Uint8Array(72).fill(4),
    commitment: new Uint8Array(32).fill(5),
    guessLimit: 10,
    registrationKey: new Uint8Array(32).fill(6),
    keySignature: new Uint8Array(64).fill(7)
  })
);

const registered = (attempts: number): UserRow => ({
  verifier: new Uint8Array(32).fill(6),
  // P38: the delay clock and the start of the wrong-guess run travel with the counter.
  state: { status: 'registered', record, attempts, evaluationPending: false, lastEvaluationAt: 1_700_000_000_000 + attempts, failingSince: attempts > 0 ? 1_700_000_000_000 : null }
});
const attemptsOf = (row: UserRow | undefined) => (row?.state.status === 'registered' ? row.state.attempts : -1);

const adapters: { name: string; open(): Promise<[RealmStorage, RealmStorage]> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = tempDir('parley-realm-');
      return [openSqliteRealmStorage(dir), openSqliteRealmStorage(dir)];
    }
  },
  {
    name: 'postgres',
    async open() {
      const url = await (await sharedCluster()).createDatabase();
      const a = await openPgRealmStore(url, { max: 4 });
      return [a, await openPgRealmStore(url, { max: 4 })];
    }
  }
];

describe.each(adapters)('realm storage contract on $name', (adapter) => {
  let stores: RealmStorage[] = [];
  const open = async () => (stores = await adapter.open());
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  test('a row reads back as written; a destroyed record reads as destroyed; a throwing fn writes nothing', async () => {
    const [a, b] = await open();
    const id = randomBytes(32);
    expect(await a.transact(id, (row) => ({ result: row }))).toBeUndefined();
    await a.transact(id, () => ({ write: registered(3), result: null }));
    const back = await b.transact(id, (row) => ({ result: row }));
    expect(back).toEqual(registered(3));
    await expect(b.transact(id, () => {
      throw new Error('refused');
    })).rejects.toThrow('refused');
    await b.transact(id, (row) => ({ write: { verifier: row!.verifier, state: { status: 'destroyed' } }, result: null }));
    expect(await a.transact(id, (row) => ({ result: row?.state }))).toEqual({ status: 'destroyed' });
    await a.scrub();
  });

  test('P23 50 concurrent guesses on two processes never lose a counter update', async () => {
    const [a, b] = await open();
    const id = randomBytes(32);
    await a.transact(id, () => ({ write: registered(0), result: null }));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).transact(id, (row) => ({ write: registered(attemptsOf(row) + 1), result: null })))
    );
    expect(await a.transact(id, (row) => ({ result: attemptsOf(row) }))).toBe(50);
  });

  test('P23 concurrent first writes for a user with no row yet are serialised too', async () => {
    const [a, b] = await open();
    const id = randomBytes(32);
    const firsts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).transact(id, (row) => (row ? { write: registered(attemptsOf(row) + 1), result: false } : { write: registered(0), result: true })))
    );
    expect(firsts.filter(Boolean)).toHaveLength(1);
    expect(await b.transact(id, (row) => ({ result: attemptsOf(row) }))).toBe(19);
  });
});

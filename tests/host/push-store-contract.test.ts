/**
 * One contract for the Web Push store (push-port.ts; README "Web Push with the tab closed"; P48
 * in this branch's numbering), run unchanged against SQLite (a temp file; both handles are the one
 * store) and PostgreSQL (a throwaway cluster, tests/support/postgres.ts; two pools on one database,
 * as two host instances have).
 */
import { afterAll, describe, expect, test } from 'vitest';
import type pg from 'pg';
import { createPool } from '../../src/host/storage/pg/client';
import { openPgPush } from '../../src/host/storage/pg/push';
import type { PushStore } from '../../src/host/storage/push-port';
import { openSqlitePush } from '../../src/host/storage/sqlite-push';
import { startPostgres, type PgCluster } from '../support/postgres';
import { tempDir } from './support';

let cluster: Promise<PgCluster> | undefined;
const pools: pg.Pool[] = [];
const open: PushStore[] = [];
afterAll(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const p of pools.splice(0)) await p.end();
  if (cluster) await (await cluster).destroy();
});

const backends: { name: string; open(): Promise<[PushStore, PushStore]> }[] = [
  {
    name: 'sqlite',
    async open() {
      const one = openSqlitePush(tempDir());
      open.push(one);
      return [one, one];
    }
  },
  {
    name: 'postgres',
    async open() {
      cluster ??= startPostgres({ fsync: false });
      const url = await (await cluster).createDatabase();
      const [a, b] = [createPool(url), createPool(url)];
      pools.push(a, b);
      return [await openPgPush(a), await openPgPush(b)];
    }
  }
];

const ep = (n: number) => `https://push.example.org/send/${n}`;

describe.each(backends)('push store on $name', (backend) => {
  test('P48 racing first writes keep one VAPID key pair, the same through both handles', async () => {
    const [one, two] = await backend.open();
    expect(await one.getVapidKeys()).toBeUndefined();
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).putVapidKeysIfAbsent({ publicKey: `pub${i}`, privateKey: `priv${i}` })));
    const first = await one.getVapidKeys();
    expect(first).toBeDefined();
    expect(first!.publicKey.slice(3)).toBe(first!.privateKey.slice(4));
    expect(await two.getVapidKeys()).toEqual(first);
    await two.putVapidKeysIfAbsent({ publicKey: 'later', privateKey: 'later' });
    expect(await one.getVapidKeys()).toEqual(first);
  });

  test('P48 an account keeps its newest endpoints up to the limit; a refresh makes one newest again', async () => {
    const [one, two] = await backend.open();
    await one.putSubscription('ann', ep(1), 100, 3);
    await two.putSubscription('ann', ep(2), 200, 3);
    await one.putSubscription('ann', ep(3), 300, 3);
    expect(await two.subscriptions('ann')).toEqual([ep(3), ep(2), ep(1)]);
    await one.putSubscription('ann', ep(1), 400, 3);
    expect(await two.subscriptions('ann')).toEqual([ep(1), ep(3), ep(2)]);
    await two.putSubscription('ann', ep(4), 500, 3);
    expect(await one.subscriptions('ann')).toEqual([ep(4), ep(1), ep(3)]);
    expect(await one.subscriptions('ben')).toEqual([]);
  });

  test('P48 registrations racing through two handles for one account never leave more than the limit', async () => {
    const [one, two] = await backend.open();
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).putSubscription('ann', ep(i), 1000 + i, 4)));
    expect(await one.subscriptions('ann')).toHaveLength(4);
  });

  test('P48 an endpoint belongs to one account: registering it elsewhere moves it; deleting takes only one\'s own', async () => {
    const [one, two] = await backend.open();
    await one.putSubscription('ann', ep(7), 1, 4);
    await two.putSubscription('ben', ep(7), 2, 4);
    expect(await one.subscriptions('ann')).toEqual([]);
    expect(await one.subscriptions('ben')).toEqual([ep(7)]);
    expect(await two.deleteSubscription('ann', ep(7))).toBe(false);
    expect(await one.subscriptions('ben')).toEqual([ep(7)]);
    expect(await two.deleteSubscription('ben', ep(7))).toBe(true);
    expect(await one.subscriptions('ben')).toEqual([]);
    await one.putSubscription('ben', ep(8), 3, 4);
    await two.dropEndpoint(ep(8));
    await two.dropEndpoint(ep(9));
    expect(await one.subscriptions('ben')).toEqual([]);
  });
});

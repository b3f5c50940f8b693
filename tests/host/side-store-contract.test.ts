/**
 * One contract for the group state blob store (group-blob-port.ts; SECURITY.md P19) and the
 * discovery index (discovery-port.ts), run unchanged against SQLite (temp files) and PostgreSQL
 * (a throwaway cluster, tests/support/postgres.ts; two pools on one database, as two host
 * instances have).
 */
import { afterAll, describe, expect, test } from 'vitest';
import type pg from 'pg';
import type { DiscoveryIndex } from '../../src/host/storage/discovery-port';
import type { GroupBlobStore } from '../../src/host/storage/group-blob-port';
import { createPool } from '../../src/host/storage/pg/client';
import { openPgDiscovery } from '../../src/host/storage/pg/discovery';
import { openPgGroupBlobs } from '../../src/host/storage/pg/group-blobs';
import { openSqliteDiscovery } from '../../src/host/storage/sqlite-discovery';
import { openSqliteGroupBlobs } from '../../src/host/storage/sqlite-group-blobs';
import { startPostgres, type PgCluster } from '../support/postgres';
import { tempDir } from './support';

type Pair = [{ blobs: GroupBlobStore; index: DiscoveryIndex }, { blobs: GroupBlobStore; index: DiscoveryIndex }];

let cluster: Promise<PgCluster> | undefined;
const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const p of pools.splice(0)) await p.end();
  if (cluster) await (await cluster).destroy();
});

const backends: { name: string; open(): Promise<Pair> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = tempDir();
      const one = { blobs: openSqliteGroupBlobs(dir), index: openSqliteDiscovery(dir) };
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
      return [
        { blobs: await openPgGroupBlobs(a), index: await openPgDiscovery(a) },
        { blobs: await openPgGroupBlobs(b), index: await openPgDiscovery(b) }
      ];
    }
  }
];

const bytes = (n: number, len = 32) => new Uint8Array(len).fill(n);

describe.each(backends)('side stores on $name', (backend) => {
  test('P19 the first write fixes the token; another handle sees it and is refused another token', async () => {
    const [one, two] = await backend.open();
    expect(await one.blobs.getBlob(bytes(1))).toBeUndefined();
    expect(await one.blobs.putBlob(bytes(1), bytes(0xa), bytes(5, 10), 1)).toBe('stored');
    expect(await two.blobs.getBlob(bytes(1))).toEqual(bytes(5, 10));
    expect(await two.blobs.putBlob(bytes(1), bytes(0xb), bytes(6, 10), 2)).toBe('mismatch');
    expect(await two.blobs.putBlob(bytes(1), bytes(0xa), bytes(7, 3), 3)).toBe('stored');
    expect(await one.blobs.getBlob(bytes(1))).toEqual(bytes(7, 3));
  });

  test('P19 writers racing on a new address with different tokens: exactly one wins, and its blob stays', async () => {
    const [one, two] = await backend.open();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).blobs.putBlob(bytes(2), bytes(i + 1), bytes(i + 1, 8), i)));
    expect(results.filter((r) => r === 'stored')).toHaveLength(1);
    const winner = results.indexOf('stored');
    expect(await one.blobs.getBlob(bytes(2))).toEqual(bytes(winner + 1, 8));
  });

  test('the discovery index answers the same through both handles and adds each hash once', async () => {
    const [one, two] = await backend.open();
    expect(await one.index.size()).toBe(0);
    await Promise.all([one.index.add(bytes(3)), two.index.add(bytes(3)), two.index.add(bytes(4))]);
    expect(await two.index.has(bytes(3))).toBe(true);
    expect(await one.index.has(bytes(4))).toBe(true);
    expect(await one.index.has(bytes(5))).toBe(false);
    expect(await two.index.size()).toBe(2);
  });
});

/**
 * One contract for the owner-written blob stores (profile-port.ts; SECURITY.md P43 profiles and
 * username links), run unchanged against SQLite (a temp file) and PostgreSQL (a throwaway cluster,
 * tests/support/postgres.ts, two pools on one database as two host instances would have).
 */
import { afterAll, describe, expect, test } from 'vitest';
import type pg from 'pg';
import { createPool } from '../../src/host/storage/pg/client';
import { openPgOwnedBlobs } from '../../src/host/storage/pg/owned-blobs';
import type { OwnedBlobStores } from '../../src/host/storage/profile-port';
import { openSqliteProfiles } from '../../src/host/storage/sqlite-profiles';
import { startPostgres, type PgCluster } from '../support/postgres';
import { tempDir } from './support';

let cluster: Promise<PgCluster> | undefined;
const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const p of pools.splice(0)) await p.end();
  if (cluster) await (await cluster).destroy();
});

/** Two handles on one store: the same SQLite store twice, or two PostgreSQL pools. */
const backends: { name: string; open(): Promise<[OwnedBlobStores, OwnedBlobStores]> }[] = [
  {
    name: 'sqlite',
    async open() {
      const s = openSqliteProfiles(tempDir());
      return [s, s];
    }
  },
  {
    name: 'postgres',
    async open() {
      cluster ??= startPostgres({ fsync: false });
      const url = await (await cluster).createDatabase();
      const a = createPool(url);
      const b = createPool(url);
      pools.push(a, b);
      return [await openPgOwnedBlobs(a), await openPgOwnedBlobs(b)];
    }
  }
];

const addr = (n: number) => new Uint8Array(32).fill(n);
const v1 = new Uint8Array(32).fill(0xa1);
const v2 = new Uint8Array(32).fill(0xb2);
const blob = (n: number) => new Uint8Array(100).fill(n);

describe.each(backends)('owned blob store on $name', (backend) => {
  test('P43 the first write fixes the verifier; replace and delete need it', async () => {
    const [s] = await backend.open();
    expect(await s.profiles.get(addr(1))).toBeUndefined();
    expect(await s.profiles.put(addr(1), v1, blob(1), 10)).toBe('stored');
    expect(await s.profiles.put(addr(1), v2, blob(2), 11)).toBe('mismatch');
    expect(await s.profiles.get(addr(1))).toEqual({ blob: blob(1), updatedAt: 10 });
    expect(await s.profiles.put(addr(1), v1, blob(3), 12)).toBe('stored');
    expect(await s.profiles.get(addr(1))).toEqual({ blob: blob(3), updatedAt: 12 });
    expect(await s.profiles.remove(addr(1), v2)).toBe('mismatch');
    expect(await s.profiles.remove(addr(1), v1)).toBe('deleted');
    expect(await s.profiles.remove(addr(1), v1)).toBe('absent');
    expect(await s.profiles.get(addr(1))).toBeUndefined();
  });

  test('profiles and username links are separate tables', async () => {
    const [s] = await backend.open();
    expect(await s.links.put(addr(2).slice(0, 16), v1, blob(4), 1)).toBe('stored');
    expect(await s.profiles.get(addr(2).slice(0, 16))).toBeUndefined();
    expect((await s.links.get(addr(2).slice(0, 16)))?.blob).toEqual(blob(4));
  });

  test('P43 two instances racing to create one address: exactly one verifier wins', async () => {
    const [a, b] = await backend.open();
    const results = await Promise.all([a.profiles.put(addr(3), v1, blob(5), 1), b.profiles.put(addr(3), v2, blob(6), 1)]);
    expect(results.filter((r) => r === 'stored')).toHaveLength(1);
    const winner = results[0] === 'stored' ? v1 : v2;
    expect(await a.profiles.put(addr(3), winner, blob(7), 2)).toBe('stored');
  });
});

/**
 * One contract for the group state blob store (group-blob-port.ts; SECURITY.md P19), the
 * discovery index (discovery-port.ts), sealed sender's store (sealed-port.ts; P41) and the
 * attachment blob store (blob-port.ts; P45, with release hashes added later), run unchanged against SQLite (temp files) and PostgreSQL
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
import { BlobOffsetError, type BlobStore } from '../../src/host/storage/blob-port';
import { MAX_BLOB_RELEASES } from '../../src/lib/wire/blob-api';
import type { SealedStore } from '../../src/host/storage/sealed-port';
import { openPgBlobs } from '../../src/host/storage/pg/blobs';
import { openPgSealed } from '../../src/host/storage/pg/sealed';
import { openSqliteBlobs } from '../../src/host/storage/sqlite-blobs';
import { openSqliteSealed } from '../../src/host/storage/sqlite-sealed';
import { startPostgres, type PgCluster } from '../support/postgres';
import { tempDir } from './support';

interface Handle {
  blobs: GroupBlobStore;
  index: DiscoveryIndex;
  sealed: SealedStore;
  files: BlobStore;
}
type Pair = [Handle, Handle];

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
      const one = { blobs: openSqliteGroupBlobs(dir), index: openSqliteDiscovery(dir), sealed: openSqliteSealed(dir), files: openSqliteBlobs(dir) };
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
      const handle = async (p: pg.Pool): Promise<Handle> => ({ blobs: await openPgGroupBlobs(p), index: await openPgDiscovery(p), sealed: await openPgSealed(p), files: await openPgBlobs(p) });
      return [await handle(a), await handle(b)];
    }
  }
];

const bytes = (n: number, len = 32) => new Uint8Array(len).fill(n);
const sorted = (xs: Uint8Array[]) => [...xs].sort((a, b) => a[0]! - b[0]!);

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

  test('P19 a write with a next token hash hands the address on: through either handle only that token writes afterwards', async () => {
    const [one, two] = await backend.open();
    expect(await one.blobs.putBlob(bytes(3), bytes(0xa), bytes(1, 4), 1)).toBe('stored');
    expect(await two.blobs.putBlob(bytes(3), bytes(0xb), bytes(2, 4), 2, bytes(0xc))).toBe('mismatch');
    expect(await two.blobs.putBlob(bytes(3), bytes(0xa), bytes(3, 4), 3, bytes(0xc))).toBe('stored');
    expect(await one.blobs.putBlob(bytes(3), bytes(0xa), bytes(4, 4), 4)).toBe('mismatch');
    expect(await one.blobs.getBlob(bytes(3))).toEqual(bytes(3, 4));
    expect(await one.blobs.putBlob(bytes(3), bytes(0xc), bytes(5, 4), 5)).toBe('stored');
    // A first write with a next hash fixes that one.
    expect(await one.blobs.putBlob(bytes(4), bytes(0xa), bytes(6, 4), 6, bytes(0xd))).toBe('stored');
    expect(await two.blobs.putBlob(bytes(4), bytes(0xa), bytes(7, 4), 7)).toBe('mismatch');
    expect(await two.blobs.putBlob(bytes(4), bytes(0xd), bytes(7, 4), 7)).toBe('stored');
  });

  test('P19 writers racing on a new address with different tokens: exactly one wins, and its blob stays', async () => {
    const [one, two] = await backend.open();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).blobs.putBlob(bytes(2), bytes(i + 1), bytes(i + 1, 8), i)));
    expect(results.filter((r) => r === 'stored')).toHaveLength(1);
    const winner = results.indexOf('stored');
    expect(await one.blobs.getBlob(bytes(2))).toEqual(bytes(winner + 1, 8));
  });

  test('the discovery index answers the same through both handles, adds each hash once and never replaces an identity', async () => {
    const [one, two] = await backend.open();
    expect(await one.index.identities()).toEqual([]);
    await Promise.all([one.index.add(bytes(3), bytes(30, 131)), two.index.add(bytes(3), bytes(30, 131)), two.index.add(bytes(4), bytes(40, 131))]);
    expect(await two.index.find(bytes(3))).toEqual(bytes(30, 131));
    expect(await one.index.find(bytes(4))).toEqual(bytes(40, 131));
    expect(await one.index.find(bytes(5))).toBeUndefined();
    expect(sorted(await two.index.identities())).toEqual([bytes(30, 131), bytes(40, 131)]);
    expect(await two.index.missingIdentities()).toBe(0);
    // A second registration's identity under the same hash cannot take over the entry.
    await one.index.add(bytes(3), bytes(31, 131));
    expect(await two.index.find(bytes(3))).toEqual(bytes(30, 131));
    expect(await one.index.dropIncomplete()).toBe(0);
    expect(sorted(await one.index.identities())).toEqual([bytes(30, 131), bytes(40, 131)]);
  });

  test('P41 an account\'s sealed access set through one handle is what the other checks; a new one replaces it', async () => {
    const [one, two] = await backend.open();
    expect(await two.sealed.getAccess('bob')).toBeUndefined();
    await one.sealed.putAccess('bob', bytes(1, 33), 1);
    expect(await two.sealed.getAccess('bob')).toEqual(bytes(1, 33));
    await two.sealed.putAccess('bob', bytes(2, 33), 2);
    expect(await one.sealed.getAccess('bob')).toEqual(bytes(2, 33));
    expect(await one.sealed.getAccess('carol')).toBeUndefined();
  });

  test('P41 racing first writes keep one certificate key and one root; a renewal replaces only the key it read', async () => {
    const [one, two] = await backend.open();
    const key = (n: number) => ({ publicPart: bytes(n, 110), privateKey: bytes(n, 64) });
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).sealed.putCertificateKey(key(i + 1))));
    const first = await one.sealed.getCertificateKey();
    expect(first).toBeDefined();
    expect(await two.sealed.getCertificateKey()).toEqual(first);
    // A renewal that read a key no longer stored (another instance renewed first) changes nothing.
    await two.sealed.putCertificateKey(key(20), bytes(99, 110));
    expect(await one.sealed.getCertificateKey()).toEqual(first);
    await two.sealed.putCertificateKey(key(21), first!.publicPart);
    expect(await one.sealed.getCertificateKey()).toEqual(key(21));
    await one.sealed.putCertificateKey(key(22), first!.publicPart);
    expect(await two.sealed.getCertificateKey()).toEqual(key(21));
    await Promise.all([one.sealed.putDevelopmentRoot({ publicPart: bytes(5), privateKey: bytes(5, 64) }), two.sealed.putDevelopmentRoot({ publicPart: bytes(6), privateKey: bytes(6, 64) })]);
    const root = await one.sealed.getDevelopmentRoot();
    expect([5, 6]).toContain(root!.publicPart[0]);
    expect(await two.sealed.getDevelopmentRoot()).toEqual(root);
  });

  const id = (n: number) => n.toString(16).padStart(32, '0');
  const data = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

  test('P45 an upload begun through one handle continues through the other, in order only, and reads back by any range', async () => {
    const [one, two] = await backend.open();
    const whole = data(10_000, 1);
    await one.files.create(id(1), 'ann', whole.length, 100, []);
    expect(await two.files.get(id(1))).toEqual({ id: id(1), owner: 'ann', size: 10_000, received: 0, createdAt: 100 });
    expect(await two.files.pending('ann')).toBe(1);
    expect(await one.files.append(id(1), 0, whole.subarray(0, 3000))).toBe(3000);
    // The other handle resumes where the first stopped; a stale offset is refused with where the blob is.
    await expect(two.files.append(id(1), 0, whole.subarray(0, 3000))).rejects.toEqual(new BlobOffsetError(3000));
    await expect(two.files.append(id(1), 3000, data(7001, 0))).rejects.toThrow(RangeError);
    expect(await two.files.append(id(1), 3000, whole.subarray(3000, 7000))).toBe(7000);
    expect(await one.files.append(id(1), 7000, whole.subarray(7000))).toBe(10_000);
    expect(await one.files.pending('ann')).toBe(0);
    expect(await two.files.read(id(1), 0, 10_000)).toEqual(whole);
    // Ranges inside one part, across part boundaries and at the very end.
    for (const [a, b] of [[10, 20], [2990, 3010], [2999, 7001], [0, 3000], [9999, 10_000]] as const) {
      expect(await one.files.read(id(1), a, b)).toEqual(whole.subarray(a, b));
    }
    await expect(one.files.get('../' + id(1).slice(3))).rejects.toThrow(/32 hex digits/);
  });

  test('P45 two handles appending the same part at once: exactly one is stored, the other learns where the blob is', async () => {
    const [one, two] = await backend.open();
    await one.files.create(id(2), 'ann', 2000, 1, []);
    const results = await Promise.allSettled([one.files.append(id(2), 0, data(1000, 2)), two.files.append(id(2), 0, data(1000, 3))]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toEqual(new BlobOffsetError(1000));
    const kept = (results.find((r) => r.status === 'fulfilled') === results[0] ? data(1000, 2) : data(1000, 3));
    expect(await two.files.get(id(2))).toMatchObject({ received: 1000 });
    expect(await one.files.append(id(2), 1000, data(1000, 4))).toBe(2000);
    const all = await two.files.read(id(2), 0, 2000);
    expect(all.subarray(0, 1000)).toEqual(kept);
  });

  test('P45 the sweep deletes blobs past retention and unfinished ones past theirs, through either handle', async () => {
    const [one, two] = await backend.open();
    await one.files.create(id(3), 'ann', 10, 10, []); // complete, old
    await one.files.append(id(3), 0, data(10, 5));
    await one.files.create(id(4), 'ann', 10, 50, []); // complete, young
    await one.files.append(id(4), 0, data(10, 6));
    await one.files.create(id(5), 'ann', 10, 30, []); // unfinished, middle-aged
    await one.files.create(id(6), 'ann', 10, 60, []); // unfinished, young
    expect(await two.files.sweep(20, 40)).toBe(2);
    expect(await one.files.get(id(3))).toBeUndefined();
    expect(await one.files.get(id(5))).toBeUndefined();
    expect(await one.files.read(id(4), 0, 10)).toEqual(data(10, 6));
    expect(await one.files.get(id(6))).toMatchObject({ received: 0 });
    expect(await two.files.sweep(20, 40)).toBe(0);
  });

  const hash = (n: number) => n.toString(16).padStart(64, '0');

  test('P45 a blob listing three release hashes survives two, through either handle, and goes with the third; replays, unlisted hashes and unknown blobs change nothing', async () => {
    const [one, two] = await backend.open();
    await one.files.create(id(7), 'ann', 10, 1, [hash(1), hash(2), hash(3)]);
    await one.files.append(id(7), 0, data(10, 7));
    expect(await one.files.release(id(7), hash(1))).toBe(false);
    expect(await two.files.release(id(7), hash(1))).toBe(false);
    expect(await two.files.release(id(7), hash(9))).toBe(false);
    expect(await two.files.release(id(99), hash(3))).toBe(false);
    expect(await two.files.release(id(7), hash(2))).toBe(false);
    expect(await one.files.read(id(7), 0, 10)).toEqual(data(10, 7));
    expect(await two.files.release(id(7), hash(3))).toBe(true);
    expect(await one.files.get(id(7))).toBeUndefined();
    expect(await one.files.release(id(7), hash(3))).toBe(false);
    // The id is free again and the new blob lists nothing: nothing of the old list is left to strike.
    await one.files.create(id(7), 'ann', 10, 2, []);
    await one.files.append(id(7), 0, data(10, 8));
    for (const n of [1, 2, 3]) expect(await two.files.release(id(7), hash(n))).toBe(false);
    expect(await two.files.get(id(7))).toMatchObject({ received: 10 });
  });

  test('P45 a blob listing none, or whose list emptied before its upload finished, is not deleted by releases; the sweep takes it and its list', async () => {
    const [one, two] = await backend.open();
    await one.files.create(id(8), 'ann', 10, 1, []);
    await one.files.append(id(8), 0, data(10, 1));
    expect(await two.files.release(id(8), hash(1))).toBe(false);
    await one.files.create(id(9), 'ann', 10, 1, [hash(1)]);
    expect(await two.files.release(id(9), hash(1))).toBe(false);
    await one.files.append(id(9), 0, data(10, 2));
    expect(await two.files.release(id(9), hash(1))).toBe(false);
    await one.files.create(id(10), 'ann', 10, 1, [hash(1), hash(2)]);
    await one.files.append(id(10), 0, data(10, 3));
    expect(await one.files.get(id(8))).toBeDefined();
    expect(await one.files.get(id(9))).toBeDefined();
    expect(await two.files.sweep(2, 0)).toBe(3);
    // Release rows went with the blob: a new blob under the same id listing one of them is not
    // deleted by the other.
    await one.files.create(id(10), 'ann', 10, 3, [hash(2)]);
    await one.files.append(id(10), 0, data(10, 4));
    expect(await two.files.release(id(10), hash(1))).toBe(false);
    expect(await two.files.get(id(10))).toBeDefined();
    expect(await two.files.release(id(10), hash(2))).toBe(true);
  });

  test('P45 the last two releases racing through two handles delete the blob exactly once', async () => {
    const [one, two] = await backend.open();
    for (let n = 20; n < 26; n++) {
      await one.files.create(id(n), 'ann', 10, 1, [hash(1), hash(2)]);
      await one.files.append(id(n), 0, data(10, n));
      const results = await Promise.all([one.files.release(id(n), hash(1)), two.files.release(id(n), hash(2))]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await one.files.get(id(n))).toBeUndefined();
    }
  });

  test('P45 the uploader adds a hash later: the blob then also waits for that release; a hash already listed changes nothing', async () => {
    const [one, two] = await backend.open();
    await one.files.create(id(40), 'ann', 10, 1, [hash(1)]);
    await one.files.append(id(40), 0, data(10, 40));
    expect(await two.files.addReleases(id(40), 'ann', [hash(2)])).toBe('added');
    expect(await one.files.release(id(40), hash(1))).toBe(false);
    expect(await two.files.read(id(40), 0, 10)).toEqual(data(10, 40));
    expect(await one.files.release(id(40), hash(2))).toBe(true);
    expect(await two.files.get(id(40))).toBeUndefined();
    // Released (deleted): nothing to add to.
    expect(await two.files.addReleases(id(40), 'ann', [hash(3)])).toBe('missing');
    expect(await one.files.get(id(40))).toBeUndefined();
    // Already listed hashes are left as they are: each is still released once, and only the new one is added.
    await one.files.create(id(41), 'ann', 10, 1, [hash(1), hash(2)]);
    await one.files.append(id(41), 0, data(10, 41));
    expect(await two.files.addReleases(id(41), 'ann', [hash(2)])).toBe('added');
    expect(await one.files.addReleases(id(41), 'ann', [hash(1), hash(3)])).toBe('added');
    expect(await two.files.release(id(41), hash(1))).toBe(false);
    expect(await two.files.release(id(41), hash(2))).toBe(false);
    expect(await one.files.get(id(41))).toBeDefined();
    expect(await two.files.release(id(41), hash(3))).toBe(true);
    // A blob created listing none gains a list, and goes with it.
    await one.files.create(id(42), 'ann', 10, 1, []);
    await one.files.append(id(42), 0, data(10, 42));
    expect(await two.files.addReleases(id(42), 'ann', [hash(4)])).toBe('added');
    expect(await one.files.release(id(42), hash(4))).toBe(true);
    expect(await two.files.get(id(42))).toBeUndefined();
  });

  test('P45 adding hashes to another owner\'s blob, an unknown one or a swept one is missing and changes nothing; past MAX_BLOB_RELEASES listed nothing is added', async () => {
    const [one, two] = await backend.open();
    await one.files.create(id(43), 'ann', 10, 1, [hash(1)]);
    await one.files.append(id(43), 0, data(10, 43));
    expect(await two.files.addReleases(id(43), 'ben', [hash(2)])).toBe('missing');
    expect(await one.files.addReleases(id(99), 'ann', [hash(2)])).toBe('missing');
    // Nothing was added to ann's blob: its one hash still deletes it.
    expect(await two.files.release(id(43), hash(1))).toBe(true);
    await one.files.create(id(44), 'ann', 10, 1, [hash(1)]);
    expect(await two.files.sweep(2, 2)).toBe(1);
    expect(await one.files.addReleases(id(44), 'ann', [hash(2)])).toBe('missing');
    expect(await two.files.get(id(44))).toBeUndefined();
    // A list one short of full: two more are too many, and neither is added (one more still fits,
    // which it would not if either were); hashes already listed do not count again.
    const almost = Array.from({ length: MAX_BLOB_RELEASES - 1 }, (_, i) => hash(i));
    const [a, b, c] = [hash(5000), hash(5001), hash(5002)];
    await one.files.create(id(45), 'ann', 10, 3, almost);
    expect(await two.files.addReleases(id(45), 'ann', [a, b])).toBe('tooMany');
    expect(await one.files.addReleases(id(45), 'ann', [hash(0), c])).toBe('added');
    expect(await two.files.addReleases(id(45), 'ann', [hash(1), c])).toBe('added');
    expect(await one.files.addReleases(id(45), 'ann', [a])).toBe('tooMany');
    expect(await one.files.addReleases(id(45), 'ann', [b])).toBe('tooMany');
    // Malformed lists are refused before anything is looked up.
    for (const bad of [['x'], [hash(0xab).toUpperCase()], [c, c], [...almost, a, b]]) {
      await expect(one.files.addReleases(id(45), 'ann', bad)).rejects.toThrow(/release hash/);
    }
    await expect(one.files.addReleases('../x', 'ann', [a])).rejects.toThrow(/32 hex digits/);
    // The list is exactly the first one and `c`: releasing those deletes the blob.
    await one.files.append(id(45), 0, data(10, 45));
    for (const h of almost) expect(await two.files.release(id(45), h)).toBe(false);
    expect(await one.files.release(id(45), c)).toBe(true);
  });

  test('P45 the uploader removes its own blob, complete or unfinished, through either handle; another owner, an unknown id or a second remove changes nothing', async () => {
    const [one, two] = await backend.open();
    await one.files.create(id(50), 'ann', 10, 1, [hash(1), hash(2)]);
    await one.files.append(id(50), 0, data(10, 50));
    expect(await two.files.remove(id(50), 'ben')).toBe(false);
    expect(await one.files.read(id(50), 0, 10)).toEqual(data(10, 50));
    expect(await two.files.remove(id(50), 'ann')).toBe(true);
    expect(await one.files.get(id(50))).toBeUndefined();
    expect(await one.files.remove(id(50), 'ann')).toBe(false);
    expect(await two.files.remove(id(99), 'ann')).toBe(false);
    // Its release rows went with it: a new blob under the id listing one of them waits for its own list.
    await one.files.create(id(50), 'ann', 10, 2, [hash(2)]);
    await one.files.append(id(50), 0, data(10, 51));
    expect(await two.files.release(id(50), hash(1))).toBe(false);
    expect(await two.files.get(id(50))).toBeDefined();
    // Unfinished: it stops counting against the owner's pending uploads, and no part can follow.
    await one.files.create(id(51), 'ann', 10, 1, []);
    await one.files.append(id(51), 0, data(4, 52));
    expect(await two.files.pending('ann')).toBe(1);
    expect(await one.files.remove(id(51), 'ann')).toBe(true);
    expect(await two.files.pending('ann')).toBe(0);
    await expect(two.files.append(id(51), 4, data(6, 52))).rejects.toThrow(/no such blob/);
    await expect(one.files.remove('../x', 'ann')).rejects.toThrow(/32 hex digits/);
  });

  test('P45 the store refuses malformed release lists and hashes and then holds nothing; a full list is accepted', async () => {
    const [one] = await backend.open();
    const full = Array.from({ length: MAX_BLOB_RELEASES }, (_, i) => hash(i));
    for (const bad of [['x'], [hash(0xab).toUpperCase()], [hash(1), hash(1)], [...full, hash(MAX_BLOB_RELEASES)]]) {
      await expect(one.files.create(id(30), 'ann', 10, 1, bad)).rejects.toThrow(/release hash/);
      expect(await one.files.get(id(30))).toBeUndefined();
    }
    await one.files.create(id(30), 'ann', 10, 1, full);
    await one.files.append(id(30), 0, data(10, 1));
    expect(await one.files.release(id(30), hash(0))).toBe(false);
    await expect(one.files.release(id(30), 'zz')).rejects.toThrow(/release hash/);
    await expect(one.files.release('../x', hash(1))).rejects.toThrow(/32 hex digits/);
  });
});

/**
 * The attachment blob endpoints (src/host/blobs.ts) on a real loopback host with a real SQLite
 * file and blob files on disk: resumable in-order upload, ranged download, the size limit, the
 * retention sweep, a restart, release by recipients' tokens (anonymous, no oracle: P41),
 * recipients the uploader adds later, and hostile input (P40) answered with clear 4xx and no crash.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { BLOB_API, BLOB_RETENTION_MS, MAX_BLOB_BYTES, MAX_BLOB_RELEASES, MAX_PENDING_UPLOADS, type BlobAddRecipients } from '../../src/lib/wire/blob-api';
import { BLOB_MIGRATIONS, BLOBS_DIR, BLOBS_FILE, openSqliteBlobs } from '../../src/host/storage/sqlite-blobs';
import { BlobOffsetError } from '../../src/host/storage/blob-port';
import { registerUser, startHost, tempDir, type TestUser } from './support';

let hosts: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const h of hosts) await h.close();
  hosts = [];
});

const auth = (u: TestUser) => ({ authorization: `Bearer ${toBase64Url(u.token)}` });
const bytes = (n: number, seed = 3): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

async function create(url: string, u: TestUser, size: unknown, releases?: unknown): Promise<Response> {
  return fetch(url + BLOB_API.blobs, { method: 'POST', headers: { ...auth(u), 'content-type': 'application/json' }, body: JSON.stringify({ size, releases }) });
}
async function put(url: string, u: TestUser, id: string, offset: number | string, body: Uint8Array): Promise<Response> {
  return fetch(`${url}${BLOB_API.prefix}${id}?offset=${offset}`, { method: 'PUT', headers: auth(u), body: body as BodyInit });
}

/** A recipient's release token (32 bytes as hex) and the hash the uploader lists for it. */
const token = (): string => randomBytes(32).toString('hex');
const hashOf = (t: string): string => createHash('sha256').update(Buffer.from(t, 'hex')).digest('hex');
/** POST <id>/release with no account unless `headers` adds one. */
async function release(url: string, id: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url + BLOB_API.prefix + id + BLOB_API.releaseSuffix, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}
/** POST <id>/recipients as `u` (no bearer without one); `body` as JSON unless a string. */
async function addRecipients(url: string, u: TestUser | undefined, id: string, body: unknown): Promise<Response> {
  const headers = { 'content-type': 'application/json', ...(u ? auth(u) : {}) };
  return fetch(url + BLOB_API.prefix + id + BLOB_API.recipientsSuffix, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}
async function uploaded(url: string, u: TestUser, size: number, releases?: string[]): Promise<string> {
  const res = await create(url, u, size, releases);
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  expect((await put(url, u, id, 0, bytes(size))).status).toBe(200);
  return id;
}
const releaseRows = (dataDir: string): number => {
  const db = new Database(join(dataDir, BLOBS_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM blob_releases').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('host attachment blobs', () => {
  test('a blob uploaded in parts, resumed after a lost answer, downloads whole and by range', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const ben = await registerUser(host.url, 'ben');
    const blob = bytes(300_000);
    const res = await create(host.url, ann, blob.length);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect((await put(host.url, ann, id, 0, blob.subarray(0, 100_000))).status).toBe(200);
    // Not there yet: an incomplete blob is not served.
    expect((await fetch(host.url + BLOB_API.prefix + id, { headers: auth(ben) })).status).toBe(404);
    // The client lost the answer to its second part and asks where the host is.
    expect((await put(host.url, ann, id, 100_000, blob.subarray(100_000, 200_000))).status).toBe(200);
    const state = await fetch(`${host.url}${BLOB_API.prefix}${id}/upload`, { headers: auth(ann) });
    expect(await state.json()).toEqual({ size: 300_000, received: 200_000 });
    // Sending the second part again is refused with where the host is, and stores nothing.
    const again = await put(host.url, ann, id, 100_000, blob.subarray(100_000, 200_000));
    expect(again.status).toBe(409);
    expect(((await again.json()) as { received: number }).received).toBe(200_000);
    expect((await put(host.url, ann, id, 200_000, blob.subarray(200_000))).status).toBe(200);
    const whole = await fetch(host.url + BLOB_API.prefix + id, { headers: auth(ben) });
    expect(whole.status).toBe(200);
    // Buffer.equals, not toEqual: a deep compare of 300,000 elements blocks this process (and the
    // host in it) for seconds on a loaded machine, past the keep-alive timeout of the next request.
    expect(Buffer.from(await whole.arrayBuffer()).equals(blob)).toBe(true);
    const part = await fetch(host.url + BLOB_API.prefix + id, { headers: { ...auth(ben), range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 1000-1999/300000');
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(blob.subarray(1000, 2000));
    // Only the uploader sees or writes an upload; to anyone else it does not exist.
    expect((await fetch(`${host.url}${BLOB_API.prefix}${id}/upload`, { headers: auth(ben) })).status).toBe(404);
  });

  test('P40 a blob of several MiB downloads whole and by long ranges, read from disk a step at a time', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const size = 3 * 1024 * 1024 + 77; // four steps of blob-download.ts
    const blob = bytes(size);
    const id = await uploaded(host.url, ann, size);
    const whole = await fetch(host.url + BLOB_API.prefix + id);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(size));
    expect(Buffer.from(await whole.arrayBuffer()).equals(blob)).toBe(true);
    const long = await fetch(host.url + BLOB_API.prefix + id, { headers: { range: `bytes=1000-${size - 1}` } });
    expect(long.status).toBe(206);
    expect(long.headers.get('content-range')).toBe(`bytes 1000-${size - 1}/${size}`);
    expect(Buffer.from(await long.arrayBuffer()).equals(blob.subarray(1000))).toBe(true);
  });

  test('P40 too large, out of order, past the end, bad ids, traversal, bad ranges and no auth get clear 4xx, and the host keeps serving', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const big = await create(host.url, ann, MAX_BLOB_BYTES + 1);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { message: string } }).error.message).toBe(`a file of ${MAX_BLOB_BYTES + 1} bytes exceeds the limit of ${MAX_BLOB_BYTES}`);
    for (const size of [0, -5, 1.5, 'x', null]) expect((await create(host.url, ann, size)).status).toBe(400);
    const { id } = (await (await create(host.url, ann, 1000)).json()) as { id: string };
    expect((await put(host.url, ann, id, 500, bytes(100))).status).toBe(409);
    expect((await put(host.url, ann, id, -1, bytes(100))).status).toBe(400);
    expect((await put(host.url, ann, id, 'abc', bytes(100))).status).toBe(400);
    expect((await put(host.url, ann, id, 0, bytes(1001))).status).toBe(413);
    expect((await put(host.url, ann, id, 0, new Uint8Array(0))).status).toBe(400);
    for (const bad of ['..%2f..%2fblobs.sqlite', '..', 'ABCDEF0123456789ABCDEF0123456789', `${id}0`, `${id.slice(0, 31)}/`, 'x'.repeat(5000), '%00']) {
      const r = await fetch(host.url + BLOB_API.prefix + bad, { headers: auth(ann) });
      expect([400, 404], bad).toContain(r.status);
      expect(r.status, bad).not.toBe(200);
    }
    expect((await put(host.url, ann, '..%2f..%2fetc%2fpasswd', 0, bytes(10))).status).toBe(400);
    // Uploads are the account's: without a bearer, creating, writing or asking where an upload is gets 401.
    expect((await fetch(host.url + BLOB_API.blobs, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size: 10 }) })).status).toBe(401);
    expect((await fetch(`${host.url}${BLOB_API.prefix}${id}?offset=0`, { method: 'PUT', body: bytes(10) as BodyInit })).status).toBe(401);
    expect((await fetch(`${host.url}${BLOB_API.prefix}${id}/upload`)).status).toBe(401);
    // A download needs no account, but an unfinished blob is not served to anyone.
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(404);
    expect((await fetch(host.url + BLOB_API.prefix + '0'.repeat(32), { headers: auth(ann) })).status).toBe(404);
    expect((await put(host.url, ann, id, 0, bytes(1000))).status).toBe(200);
    for (const range of ['bytes=1000-', 'bytes=5-2', 'bytes=-5', 'items=0-1', 'bytes=0-99999']) {
      expect((await fetch(host.url + BLOB_API.prefix + id, { headers: { ...auth(ann), range } })).status, range).toBe(416);
    }
    // Unfinished uploads per account are bounded.
    for (let i = 0; i < MAX_PENDING_UPLOADS; i++) expect((await create(host.url, ann, 10)).status).toBe(201);
    expect((await create(host.url, ann, 10)).status).toBe(429);
    expect((await fetch(host.url + '/healthz')).status).toBe(200);
    expect(readdirSync(join(host.dataDir, BLOBS_DIR)).every((f) => /^[0-9a-f]{32}$/.test(f))).toBe(true);
  });

  test('P41 P40 a download names no account: the id alone fetches the blob, a bearer changes nothing, and downloads are counted per client address', async () => {
    const host = await startHost({ limits: { blobReadPerIp: { max: 4, windowMs: 60_000 } } });
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const blob = bytes(5000, 9);
    const { id } = (await (await create(host.url, ann, blob.length)).json()) as { id: string };
    expect((await put(host.url, ann, id, 0, blob)).status).toBe(200);
    const anonymous = await fetch(host.url + BLOB_API.prefix + id, { credentials: 'omit', headers: { range: 'bytes=0-999' } });
    expect(anonymous.status).toBe(206);
    expect(new Uint8Array(await anonymous.arrayBuffer())).toEqual(blob.subarray(0, 1000));
    // A bearer sent anyway is not checked: a bad one downloads the same (the host does not look).
    const badBearer = await fetch(host.url + BLOB_API.prefix + id, { headers: { authorization: 'Bearer nonsense' } });
    expect(Buffer.from(await badBearer.arrayBuffer()).equals(blob)).toBe(true);
    expect((await fetch(host.url + BLOB_API.prefix + id, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(host.url + BLOB_API.prefix + '0'.repeat(32))).status).toBe(404);
    // The fifth download from this address within the window is refused with when to come back;
    // the uploader's own account does not lift it (downloads are not the account's).
    const refused = await fetch(host.url + BLOB_API.prefix + id, { headers: auth(ann) });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RateLimited');
    // Uploads are not downloads: they are not counted against it.
    const { id: other } = (await (await create(host.url, ann, 10)).json()) as { id: string };
    expect((await put(host.url, ann, other, 0, bytes(10))).status).toBe(200);
  });

  test('P40 blobs are deleted 30 days after upload, unfinished ones after 2 days; a restart keeps the rest', async () => {
    let now = 1_000_000_000_000;
    const dataDir = tempDir();
    const host = await startHost({ dataDir, clock: () => now });
    const ann = await registerUser(host.url, 'ann');
    const done = ((await (await create(host.url, ann, 10)).json()) as { id: string }).id;
    expect((await put(host.url, ann, done, 0, bytes(10))).status).toBe(200);
    const unfinished = ((await (await create(host.url, ann, 10)).json()) as { id: string }).id;
    now += 3 * 24 * 3600 * 1000;
    await host.sweep();
    expect(existsSync(join(dataDir, BLOBS_DIR, unfinished))).toBe(false);
    expect(existsSync(join(dataDir, BLOBS_DIR, done))).toBe(true);
    await host.close();
    const again = await startHost({ dataDir, clock: () => now });
    hosts.push(again);
    const relog = await registerUser(again.url, 'cat');
    const got = await fetch(again.url + BLOB_API.prefix + done, { headers: auth(relog) });
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes(10));
    now += BLOB_RETENTION_MS;
    await again.sweep();
    expect(existsSync(join(dataDir, BLOBS_DIR, done))).toBe(false);
    const later = await registerUser(again.url, 'dan');
    expect((await fetch(again.url + BLOB_API.prefix + done, { headers: auth(later) })).status).toBe(404);
  });

  test('P40 an account may start uploads of at most its MiB budget per window: past it 429 with Retry-After, charged by declared size; others unaffected; the window resets', async () => {
    let now = 1_800_000_000_000;
    const host = await startHost({ clock: () => now, limits: { blobUploadMiBPerAccount: { max: 5, windowMs: 60_000 }, tokenTtlMs: 86_400_000 } });
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const ben = await registerUser(host.url, 'ben');
    const MIB = 1024 * 1024;
    // 2 + 2 + 1 units (a started MiB counts whole): the budget of 5, each upload left unfinished.
    for (const size of [MIB + 1, 2 * MIB, 100]) expect((await create(host.url, ann, size)).status).toBe(201);
    const refused = await create(host.url, ann, 1);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RateLimited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await create(host.url, ben, 4 * MIB)).status).toBe(201);
    now += 60_000;
    expect((await create(host.url, ann, 100)).status).toBe(201);
  });
});

describe('host attachment blob releases', () => {
  test('P41 a blob listing three recipients survives two releases and goes with the third; releases need no account, and a wrong token, a replay or an unknown blob get the same 204 and delete nothing', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const tokens = [token(), token(), token()];
    const id = await uploaded(host.url, ann, 4000, tokens.map(hashOf));
    const get = () => fetch(host.url + BLOB_API.prefix + id);
    const answers: Response[] = [];
    answers.push(await release(host.url, id, { token: tokens[0] }));
    answers.push(await release(host.url, id, { token: tokens[0] })); // replayed
    answers.push(await release(host.url, id, { token: token() })); // never listed
    answers.push(await release(host.url, id, { token: hashOf(tokens[1]!) })); // the listed hash is not the token
    answers.push(await release(host.url, '0'.repeat(32), { token: tokens[2] })); // unknown blob
    // A bearer sent anyway is not checked: a bad one releases the same.
    answers.push(await release(host.url, id, { token: tokens[1] }, { authorization: 'Bearer nonsense' }));
    for (const r of answers) {
      expect(r.status).toBe(204);
      expect(await r.text()).toBe('');
    }
    expect((await get()).status).toBe(200);
    expect(existsSync(join(host.dataDir, BLOBS_DIR, id))).toBe(true);
    const last = await release(host.url, id, { token: tokens[2] });
    expect(last.status).toBe(204);
    expect((await get()).status).toBe(404);
    expect(existsSync(join(host.dataDir, BLOBS_DIR, id))).toBe(false);
    expect(releaseRows(host.dataDir)).toBe(0);
    // Releasing what is gone answers as before.
    expect((await release(host.url, id, { token: tokens[2] })).status).toBe(204);
  });

  test('P40 malformed release lists and tokens get 400 and create or strike nothing; other methods on the release route get 405', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const h = hashOf(token());
    const distinct = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
    const badLists: unknown[] = ['x', null, {}, h, [1], ['zz'], [h.slice(1)], [h + '0'], [h.toUpperCase()], [h, h], distinct(MAX_BLOB_RELEASES + 1)];
    for (const releases of badLists) {
      const r = await create(host.url, ann, 100, releases);
      expect(r.status, JSON.stringify(releases).slice(0, 80)).toBe(400);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/release/);
    }
    expect(readdirSync(join(host.dataDir, BLOBS_DIR))).toEqual([]);
    // A full list fits in the create body.
    expect((await create(host.url, ann, 100, distinct(MAX_BLOB_RELEASES))).status).toBe(201);
    const t = token();
    const id = await uploaded(host.url, ann, 100, [hashOf(t)]);
    for (const body of [{}, { token: 5 }, { token: t.slice(1) }, { token: t + '00' }, { token: t.toUpperCase() }, { token: 'g'.repeat(64) }, [t], null, 'not json']) {
      expect((await release(host.url, id, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await fetch(host.url + BLOB_API.prefix + id + BLOB_API.releaseSuffix, { method: 'POST', body: JSON.stringify({ token: t }) })).status).toBe(415);
    expect((await release(host.url, 'ABC', { token: t })).status).toBe(400);
    expect((await release(host.url, `..%2f${id}`, { token: t })).status).toBe(400);
    expect((await release(host.url, id, JSON.stringify({ token: t, pad: 'x'.repeat(300) }))).status).toBe(413);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      expect((await fetch(host.url + BLOB_API.prefix + id + BLOB_API.releaseSuffix, { method })).status, method).toBe(405);
    }
    // Nothing above struck the hash: the one good release still deletes the blob.
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(200);
    expect((await release(host.url, id, { token: t })).status).toBe(204);
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(404);
    expect((await fetch(host.url + '/healthz')).status).toBe(200);
  });

  test('P40 releases count against the per-address download budget: past it, 429 and nothing struck', async () => {
    const host = await startHost({ limits: { blobReadPerIp: { max: 3, windowMs: 60_000 } } });
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const t = token();
    const id = await uploaded(host.url, ann, 100, [hashOf(t)]);
    for (let i = 0; i < 3; i++) expect((await release(host.url, id, { token: token() })).status).toBe(204);
    const refused = await release(host.url, id, { token: t }, auth(ann));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(existsSync(join(host.dataDir, BLOBS_DIR, id))).toBe(true);
    expect(releaseRows(host.dataDir)).toBe(1);
  });

  test('P40 a blob listing no recipients is never deleted by releases, nor is one whose list emptied before its upload finished; both go by age, and the sweep takes their release rows', async () => {
    let now = 1_000_000_000_000;
    const host = await startHost({ clock: () => now });
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const t = token();
    const plain = await uploaded(host.url, ann, 50);
    expect((await release(host.url, plain, { token: t })).status).toBe(204);
    const early = ((await (await create(host.url, ann, 50, [hashOf(t)])).json()) as { id: string }).id;
    expect((await release(host.url, early, { token: t })).status).toBe(204);
    expect((await put(host.url, ann, early, 0, bytes(50))).status).toBe(200);
    expect((await release(host.url, early, { token: t })).status).toBe(204);
    const listed = await uploaded(host.url, ann, 50, [hashOf(token()), hashOf(token())]);
    for (const id of [plain, early, listed]) expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(200);
    expect(releaseRows(host.dataDir)).toBe(2);
    now += BLOB_RETENTION_MS + 1;
    await host.sweep();
    for (const id of [plain, early, listed]) expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(404);
    expect(releaseRows(host.dataDir)).toBe(0);
    expect(readdirSync(join(host.dataDir, BLOBS_DIR))).toEqual([]);
  });
});

describe('host attachment blob recipients added later', () => {
  test('the uploader lists a member who joined while the file went up: 204, and the blob then goes only once that one releases too', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const [first, joined] = [token(), token()];
    const id = await uploaded(host.url, ann, 4000, [hashOf(first)]);
    const added = await addRecipients(host.url, ann, id, { releases: [hashOf(joined)] } satisfies BlobAddRecipients);
    expect(added.status).toBe(204);
    expect(await added.text()).toBe('');
    // Listing again, or alongside one already listed, changes nothing.
    expect((await addRecipients(host.url, ann, id, { releases: [hashOf(first), hashOf(joined)] })).status).toBe(204);
    expect(releaseRows(host.dataDir)).toBe(2);
    expect((await release(host.url, id, { token: first })).status).toBe(204);
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(200);
    expect(existsSync(join(host.dataDir, BLOBS_DIR, id))).toBe(true);
    expect((await release(host.url, id, { token: joined })).status).toBe(204);
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(404);
    expect(existsSync(join(host.dataDir, BLOBS_DIR, id))).toBe(false);
    expect(releaseRows(host.dataDir)).toBe(0);
    // A blob created listing nobody gains a list the same way, and goes with it.
    const t = token();
    const plain = await uploaded(host.url, ann, 50);
    expect((await addRecipients(host.url, ann, plain, { releases: [hashOf(t)] })).status).toBe(204);
    expect((await release(host.url, plain, { token: t })).status).toBe(204);
    expect((await fetch(host.url + BLOB_API.prefix + plain)).status).toBe(404);
  });

  test('P40 another account\'s blob, an unknown one and a released one all get the same 404 and gain nothing', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const ben = await registerUser(host.url, 'ben');
    const t = token();
    const id = await uploaded(host.url, ann, 100, [hashOf(t)]);
    const answers: Response[] = [];
    answers.push(await addRecipients(host.url, ben, id, { releases: [hashOf(token())] }));
    answers.push(await addRecipients(host.url, ann, '0'.repeat(32), { releases: [hashOf(token())] }));
    // ben's hash was not added: ann's one recipient still deletes the blob.
    expect((await release(host.url, id, { token: t })).status).toBe(204);
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(404);
    answers.push(await addRecipients(host.url, ann, id, { releases: [hashOf(token())] }));
    const bodies = await Promise.all(answers.map(async (r) => [r.status, await r.json()] as const));
    for (const b of bodies) expect(b).toEqual([404, { error: { code: 'NotFound', message: 'no such upload' } }]);
    expect(releaseRows(host.dataDir)).toBe(0);
  });

  test('P40 no bearer gets 401; malformed lists, bad ids and lists past MAX_BLOB_RELEASES get 400 and add nothing; other methods get 405', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const t = token();
    const id = await uploaded(host.url, ann, 100, [hashOf(t)]);
    const h = hashOf(token());
    expect((await addRecipients(host.url, undefined, id, { releases: [h] })).status).toBe(401);
    expect((await addRecipients(host.url, { ...ann, token: new Uint8Array(ann.token.length) }, id, { releases: [h] })).status).toBe(401);
    const distinct = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
    const badLists: unknown[] = [undefined, 'x', null, {}, h, [], [1], ['zz'], [h.slice(1)], [h + '0'], [h.toUpperCase()], [h, h], distinct(MAX_BLOB_RELEASES + 1)];
    for (const releases of badLists) {
      const r = await addRecipients(host.url, ann, id, { releases });
      expect(r.status, JSON.stringify(releases)?.slice(0, 80)).toBe(400);
      expect(((await r.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'BadRequest', message: expect.stringMatching(/release/) });
    }
    for (const body of [null, [h], 'not json']) expect((await addRecipients(host.url, ann, id, body)).status, String(body)).toBe(400);
    expect((await addRecipients(host.url, ann, 'ABC', { releases: [h] })).status).toBe(400);
    expect((await addRecipients(host.url, ann, `..%2f${id}`, { releases: [h] })).status).toBe(400);
    const plainJson = { method: 'POST', headers: auth(ann), body: JSON.stringify({ releases: [h] }) };
    expect((await fetch(host.url + BLOB_API.prefix + id + BLOB_API.recipientsSuffix, plainJson)).status).toBe(415);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      expect((await fetch(host.url + BLOB_API.prefix + id + BLOB_API.recipientsSuffix, { method, headers: auth(ann) })).status, method).toBe(405);
    }
    // A full list takes no more; what it lists already is no addition.
    const full = await create(host.url, ann, 100, distinct(MAX_BLOB_RELEASES));
    expect(full.status).toBe(201);
    const fullId = ((await full.json()) as { id: string }).id;
    const tooMany = await addRecipients(host.url, ann, fullId, { releases: [h] });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: { message: string } }).error.message).toBe(`the blob would list more than ${MAX_BLOB_RELEASES} releases`);
    expect((await addRecipients(host.url, ann, fullId, { releases: distinct(3) })).status).toBe(204);
    expect(releaseRows(host.dataDir)).toBe(MAX_BLOB_RELEASES + 1);
    // Nothing above added to the first blob: its one recipient's release still deletes it.
    expect((await release(host.url, id, { token: t })).status).toBe(204);
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(404);
    expect((await fetch(host.url + '/healthz')).status).toBe(200);
  });

  test('P40 recipient lists per account are counted: past the limit 429, and nothing is added', async () => {
    const host = await startHost({ limits: { blobRecipientsPerAccount: { max: 2, windowMs: 60_000 } } });
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const id = await uploaded(host.url, ann, 100);
    for (let i = 0; i < 2; i++) expect((await addRecipients(host.url, ann, id, { releases: [hashOf(token())] })).status).toBe(204);
    expect(releaseRows(host.dataDir)).toBe(2);
    const refused = await addRecipients(host.url, ann, id, { releases: [hashOf(token())] });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(releaseRows(host.dataDir)).toBe(2);
  });

  test('P40 deletes per account are counted, found or not: past the limit 429 with Retry-After and the blob stays; another account is not held back', async () => {
    const host = await startHost({ limits: { blobDeletesPerAccount: { max: 2, windowMs: 60_000 } } });
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const ben = await registerUser(host.url, 'ben');
    const [first, kept] = [await uploaded(host.url, ann, 100), await uploaded(host.url, ann, 100)];
    const bens = await uploaded(host.url, ben, 100);
    expect((await removeBlob(host.url, ann, first)).status).toBe(204);
    expect((await removeBlob(host.url, ann, 'ab'.repeat(16))).status).toBe(404);
    const refused = await removeBlob(host.url, ann, kept);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RateLimited');
    expect(existsSync(join(host.dataDir, BLOBS_DIR, kept))).toBe(true);
    expect((await removeBlob(host.url, ben, bens)).status).toBe(204);
  });
});

/** DELETE <id> as `u` (no bearer without one). */
async function removeBlob(url: string, u: TestUser | undefined, id: string): Promise<Response> {
  return fetch(url + BLOB_API.prefix + id, { method: 'DELETE', headers: u ? auth(u) : {} });
}

describe('host attachment blob removed by its uploader', () => {
  test('P45 the uploader deletes its complete blob at once, release list and file with it; an unfinished one too, freeing its upload slot', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const id = await uploaded(host.url, ann, 4000, [hashOf(token()), hashOf(token())]);
    expect(existsSync(join(host.dataDir, BLOBS_DIR, id))).toBe(true);
    const gone = await removeBlob(host.url, ann, id);
    expect(gone.status).toBe(204);
    expect(await gone.text()).toBe('');
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(404);
    expect(existsSync(join(host.dataDir, BLOBS_DIR, id))).toBe(false);
    expect(releaseRows(host.dataDir)).toBe(0);
    // Unfinished uploads: at the limit a new one is refused; deleting one makes room, and the
    // deleted one takes no more parts.
    const pending: string[] = [];
    for (let i = 0; i < MAX_PENDING_UPLOADS; i++) pending.push(((await (await create(host.url, ann, 100)).json()) as { id: string }).id);
    expect((await create(host.url, ann, 100)).status).toBe(429);
    expect((await removeBlob(host.url, ann, pending[0]!)).status).toBe(204);
    expect((await put(host.url, ann, pending[0]!, 0, bytes(100))).status).toBe(404);
    expect((await create(host.url, ann, 100)).status).toBe(201);
  });

  test('P40 another account\'s blob, an unknown one and one already deleted get the same 404 and stay as they are; no bearer 401, a bad id 400', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const ben = await registerUser(host.url, 'ben');
    const id = await uploaded(host.url, ann, 100);
    const answers = [await removeBlob(host.url, ben, id), await removeBlob(host.url, ann, '0'.repeat(32))];
    expect((await fetch(host.url + BLOB_API.prefix + id)).status).toBe(200);
    expect((await removeBlob(host.url, ann, id)).status).toBe(204);
    answers.push(await removeBlob(host.url, ann, id));
    const bodies = await Promise.all(answers.map(async (r) => [r.status, await r.json()] as const));
    for (const b of bodies) expect(b).toEqual([404, { error: { code: 'NotFound', message: 'no such upload' } }]);
    const kept = await uploaded(host.url, ann, 100);
    expect((await removeBlob(host.url, undefined, kept)).status).toBe(401);
    expect((await removeBlob(host.url, ann, '..%2Fparley.sqlite')).status).toBe(400);
    expect((await fetch(host.url + BLOB_API.prefix + kept)).status).toBe(200);
  });
});

describe('blob store contract on a real SQLite file', () => {
  test('a blobs.sqlite from before release lists opens, keeps its blobs and gains the list table', async () => {
    const dir = tempDir();
    const id = 'cd'.repeat(16);
    const old = new Database(join(dir, BLOBS_FILE));
    old.exec(BLOB_MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO blobs (id, owner, size, received, created_at) VALUES (?, ?, 3, 3, 7)').run(id, 'ann');
    old.close();
    const s = openSqliteBlobs(dir);
    expect(await s.get(id)).toEqual({ id, owner: 'ann', size: 3, received: 3, createdAt: 7 });
    expect(await s.release(id, hashOf(token()))).toBe(false);
    const other = 'ef'.repeat(16);
    const t = token();
    await s.create(other, 'ann', 2, 8, [hashOf(t)]);
    await s.append(other, 0, bytes(2));
    expect(await s.release(other, hashOf(t))).toBe(true);
    expect(await s.get(other)).toBeUndefined();
    await s.close();
  });

  test('append is in order, durable across reopen; the store refuses ids that are not 32 hex digits', async () => {
    const dir = tempDir();
    const id = 'ab'.repeat(16);
    let s = openSqliteBlobs(dir);
    await s.create(id, 'ann', 6, 1, []);
    expect(await s.append(id, 0, bytes(3))).toBe(3);
    await expect(s.append(id, 0, bytes(3))).rejects.toBeInstanceOf(BlobOffsetError);
    await expect(s.append(id, 3, bytes(4))).rejects.toThrow(/past the blob's 6 bytes/);
    expect(await s.pending('ann')).toBe(1);
    await s.close();
    s = openSqliteBlobs(dir);
    expect(await s.get(id)).toEqual({ id, owner: 'ann', size: 6, received: 3, createdAt: 1 });
    await s.append(id, 3, bytes(3, 9));
    expect(await s.read(id, 2, 5)).toEqual(Uint8Array.of(...bytes(3).subarray(2), ...bytes(3, 9).subarray(0, 2)));
    expect(await s.pending('ann')).toBe(0);
    await expect(s.create('../x', 'ann', 1, 1, [])).rejects.toThrow(/32 hex digits/);
    await expect(s.get('../../' + 'a'.repeat(26))).rejects.toThrow(/32 hex digits/);
    expect(await s.sweep(2, 0)).toBe(1);
    expect(await s.get(id)).toBeUndefined();
    await s.close();
  });
});

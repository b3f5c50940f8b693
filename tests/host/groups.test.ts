/**
 * The host's group endpoints (src/host/groups.ts) on a real host and SQLite file: one fan-out
 * upload lands in each listed mailbox; malformed lists are refused whole (P40); the state blob
 * is replaced only with the write token that first wrote it (P19); the blob store survives a
 * restart (contract of group-blob-port.ts on SQLite).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import type { Username } from '../../src/lib/codec/username';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { openSqliteGroupBlobs } from '../../src/host/storage/sqlite-group-blobs';
import { GROUP_API, encodeFanOut } from '../../src/lib/wire/group-api';
import { openedBody } from '../support/host-names';
import { hostNames, registerUser, startHost, tempDir, type TestUser } from './support';
import { getBlob, putBlob } from './side-requests';

let hosts: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const h of hosts) await h.close();
  hosts = [];
});

const GROUP_MESSAGE = Uint8Array.from([0x03, 1, ...new Array(100).fill(9)]);

async function post(url: string, user: TestUser, body: Uint8Array): Promise<Response> {
  return fetch(url + GROUP_API.messages, { method: 'POST', headers: { authorization: `Bearer ${toBase64Url(user.token)}`, 'content-type': 'application/octet-stream' }, body: body as BodyInit });
}

describe('host group endpoints', () => {
  test('P20 one fan-out upload is stored once in each listed mailbox, from the authenticated sender', async () => {
    const host = await startHost();
    hosts.push(host);
    const [ann] = [await registerUser(host.url, 'ann'), await registerUser(host.url, 'ben'), await registerUser(host.url, 'cat')];
    const res = await post(host.url, ann!, encodeFanOut({ to: ['ben', 'cat'] as Username[], body: GROUP_MESSAGE }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ stored: 2, refused: 0 });
    const db = new Database(join(host.dataDir, DB_FILE), { readonly: true });
    const rows = db.prepare('SELECT recipient, sender, body FROM envelopes ORDER BY recipient').all() as { recipient: string; sender: string; body: Buffer }[];
    db.close();
    const n = hostNames(host.dataDir);
    expect(rows.map((r) => `${n.open(r.sender)}->${n.open(r.recipient)}`).sort()).toEqual(['ann->ben', 'ann->cat']);
    // Each copy opens to the message; at rest they share no bytes (README "Envelopes at rest").
    for (const r of rows) expect(openedBody(host.dataDir, r.body)).toEqual(GROUP_MESSAGE);
    expect(rows[0]!.body.equals(rows[1]!.body)).toBe(false);
  });

  test('P40 a malformed fan-out (duplicate, not canonical, own sender, empty, no auth) is refused whole', async () => {
    const host = await startHost();
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    await registerUser(host.url, 'ben');
    const raw = (names: string[]) => {
      const parts = [Uint8Array.of(0, names.length)];
      for (const n of names) parts.push(Uint8Array.of(n.length), new TextEncoder().encode(n));
      parts.push(GROUP_MESSAGE);
      return Uint8Array.from(parts.flatMap((p) => [...p]));
    };
    for (const body of [raw(['ben', 'ben']), raw(['Ben']), raw(['ann', 'ben']), raw([]), raw(['ben']).slice(0, 6)]) {
      const res = await post(host.url, ann, body);
      expect(res.status).toBe(400);
    }
    const anon = await fetch(host.url + GROUP_API.messages, { method: 'POST', body: raw(['ben']) as BodyInit });
    expect(anon.status).toBe(401);
    const db = new Database(join(host.dataDir, DB_FILE), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM envelopes').get() as { n: number }).n).toBe(0);
    db.close();
  });

  test('P19 a group blob is replaced only with the write token that first wrote it', async () => {
    const host = await startHost();
    hosts.push(host);
    const address = new Uint8Array(32).fill(1);
    const token = new Uint8Array(32).fill(2);
    expect((await getBlob(host.url, address)).status).toBe(404);
    expect(await putBlob(host.url, address, token, Uint8Array.of(1, 2, 3))).toBe(200);
    expect(await putBlob(host.url, address, new Uint8Array(32).fill(3), Uint8Array.of(6, 6, 6))).toBe(403);
    expect((await getBlob(host.url, address)).bytes).toEqual(Uint8Array.of(1, 2, 3));
    expect(await putBlob(host.url, address, token, Uint8Array.of(4, 5))).toBe(200);
    expect((await getBlob(host.url, address)).bytes).toEqual(Uint8Array.of(4, 5));
    expect(await putBlob(host.url, new Uint8Array(31), token, Uint8Array.of(1))).toBe(400);
  });

  test('P19 a write can pass the address on to a next token (a key handoff): the old token is refused from then on', async () => {
    const host = await startHost();
    hosts.push(host);
    const address = new Uint8Array(32).fill(4);
    const old = new Uint8Array(32).fill(5);
    const next = new Uint8Array(32).fill(6);
    expect(await putBlob(host.url, address, old, Uint8Array.of(1))).toBe(200);
    // A malformed next token, or one presented with the wrong current token, changes nothing.
    expect(await putBlob(host.url, address, old, Uint8Array.of(9), 'short')).toBe(400);
    expect(await putBlob(host.url, address, next, Uint8Array.of(9), next)).toBe(403);
    expect((await getBlob(host.url, address)).bytes).toEqual(Uint8Array.of(1));
    expect(await putBlob(host.url, address, old, Uint8Array.of(2), next)).toBe(200);
    expect(await putBlob(host.url, address, old, Uint8Array.of(3))).toBe(403);
    expect(await putBlob(host.url, address, old, Uint8Array.of(3), old)).toBe(403);
    expect((await getBlob(host.url, address)).bytes).toEqual(Uint8Array.of(2));
    expect(await putBlob(host.url, address, next, Uint8Array.of(4))).toBe(200);
    expect((await getBlob(host.url, address)).bytes).toEqual(Uint8Array.of(4));
  });

  test('P40 group blobs name no account: reads and writes are counted per client address, a write refused by the limit stores nothing', async () => {
    const host = await startHost({ limits: { groupBlobReadPerIp: { max: 2, windowMs: 60_000 }, groupBlobWritePerIp: { max: 2, windowMs: 3600_000 } } });
    hosts.push(host);
    const ann = await registerUser(host.url, 'ann');
    const address = new Uint8Array(32).fill(7);
    const token = new Uint8Array(32).fill(8);
    expect(await putBlob(host.url, address, token, Uint8Array.of(1))).toBe(200);
    expect(await putBlob(host.url, address, token, Uint8Array.of(2))).toBe(200);
    expect(await putBlob(host.url, address, token, Uint8Array.of(3))).toBe(429);
    expect((await getBlob(host.url, address)).bytes).toEqual(Uint8Array.of(2));
    expect((await getBlob(host.url, address)).status).toBe(200);
    // An account does not lift the address's limit (the host does not look at it here).
    const withBearer = await fetch(host.url + GROUP_API.blobs + toBase64Url(address), { headers: { authorization: `Bearer ${toBase64Url(ann.token)}` } });
    expect(withBearer.status).toBe(429);
    expect(Number(withBearer.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('the SQLite blob store keeps blobs and their token across a reopen, and refuses another token', async () => {
    const dir = tempDir();
    const a = new Uint8Array(32).fill(5);
    const s1 = openSqliteGroupBlobs(dir);
    expect(await s1.putBlob(a, new Uint8Array(32).fill(1), Uint8Array.of(9), 1)).toBe('stored');
    await s1.close();
    const s2 = openSqliteGroupBlobs(dir);
    expect(await s2.getBlob(a)).toEqual(Uint8Array.of(9));
    expect(await s2.putBlob(a, new Uint8Array(32).fill(2), Uint8Array.of(8), 2)).toBe('mismatch');
    expect(await s2.getBlob(a)).toEqual(Uint8Array.of(9));
    expect(await s2.getBlob(new Uint8Array(32))).toBeUndefined();
    await s2.close();
  });
});

/**
 * Attachments (P45) and sealed sender (P41) across several host instances on one PostgreSQL
 * (README "Several host instances"): real hosts on loopback ports sharing one real database
 * (tests/support/postgres.ts), in-process or as child processes that are SIGKILLed. An upload
 * begun on one instance resumes and downloads through another; a sender certificate issued by one
 * instance opens at a recipient connected to another, whose delivery-token check uses the access
 * set through a third path; the 30-day blob retention runs on any instance's clock.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { decodeSenderCertificate, verifySenderCertificate } from '../../src/lib/crypto/certificates';
import { systemDeps } from '../../src/lib/crypto/deps';
import { deliveryToken, encodeSealedAccess, sealedAccessFor } from '../../src/lib/crypto/delivery-token';
import { identityPublic } from '../../src/lib/crypto/identity';
import { generateProfileKey } from '../../src/lib/crypto/profile';
import { SealedContentType } from '../../src/lib/crypto/sealed-content';
import { openSealedSender, sealSender } from '../../src/lib/crypto/sealed-sender';
import { BLOB_API, BLOB_RETENTION_MS } from '../../src/lib/wire/blob-api';
import { DELIVERY_TOKEN_HEADER, SEALED_API, decodeCertificateResponse, decodeTrustResponse } from '../../src/lib/wire/sealed-api';
import { postgresPerFile } from '../support/postgres-per-file';
import type { Limits } from '../../src/host/limits';
import { searchLookupWork } from '../../src/lib/crypto/lookup-work';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import { DISCOVERY_PATH, encodeWorkProof, lookupHashText, parseWorkChallenge } from '../../src/lib/wire/discovery-api';
import { PROFILE_PATH, profileAddressText } from '../../src/lib/wire/profile-api';
import { WsClient, call, registerUser, spawnHost, startHost, tempDir, type TestUser } from './support';

type Host = Awaited<ReturnType<typeof startHost>>;

const cluster = postgresPerFile({ fsync: false });
const hosts: Host[] = [];
const sockets: WsClient[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) await s.close().catch(() => undefined);
  for (const h of hosts.splice(0)) await h.close();
});

async function host(databaseUrl: string, clock?: () => number, limits?: Partial<Limits>): Promise<Host> {
  const h = await startHost({ databaseUrl, ...(clock ? { clock } : {}), ...(limits ? { limits } : {}) });
  hosts.push(h);
  return h;
}

const auth = (u: TestUser) => ({ authorization: `Bearer ${toBase64Url(u.token)}` });
const data = (n: number, seed = 3): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);
/** Byte equality without a deep-equality walk over megabytes (hex of the first difference on failure). */
const same = (got: Uint8Array, want: Uint8Array): string => {
  if (Buffer.from(got).equals(Buffer.from(want))) return 'same';
  const i = got.findIndex((b, k) => b !== want[k]);
  return `${got.length} bytes, expected ${want.length}; first difference at ${i}`;
};

async function createBlob(url: string, u: TestUser, size: number): Promise<string> {
  const res = await fetch(url + BLOB_API.blobs, { method: 'POST', headers: { ...auth(u), 'content-type': 'application/json' }, body: JSON.stringify({ size }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}
async function putPart(url: string, u: TestUser, id: string, offset: number, body: Uint8Array): Promise<number> {
  return (await fetch(`${url}${BLOB_API.prefix}${id}?offset=${offset}`, { method: 'PUT', headers: auth(u), body: body as BodyInit })).status;
}
async function uploadState(url: string, u: TestUser, id: string): Promise<unknown> {
  return (await fetch(`${url}${BLOB_API.prefix}${id}/upload`, { headers: auth(u) })).json();
}
async function download(url: string, u: TestUser, id: string, range?: string): Promise<{ status: number; bytes: Uint8Array }> {
  const res = await fetch(url + BLOB_API.prefix + id, { headers: { ...auth(u), ...(range ? { range } : {}) } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function putAccess(url: string, u: TestUser, profileKey: Uint8Array): Promise<number> {
  const body = encodeSealedAccess(sealedAccessFor(profileKey, u.username, false));
  const res = await fetch(url + SEALED_API.access, { method: 'PUT', headers: { ...auth(u), 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
  return res.status;
}
async function sealedPost(url: string, to: string, body: Uint8Array, token?: Uint8Array): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', ...(token ? { [DELIVERY_TOKEN_HEADER]: toBase64Url(token) } : {}) };
  return (await fetch(url + SEALED_API.messages + to, { method: 'POST', headers, body: new Uint8Array(body) })).status;
}

describe('attachments and sealed sender across host instances on one PostgreSQL', () => {
  test('P45 an attachment uploaded through instance A downloads through instance B, whole and by range', async () => {
    const url = await cluster.createDatabase();
    const [a, b] = [await host(url), await host(url)];
    const ann = await registerUser(a.url, 'ann');
    const ben = await registerUser(b.url, 'ben');
    // 2.5 MiB: a whole download is read in three steps (blob-download.ts), across both parts.
    const blob = data(2_621_447);
    const id = await createBlob(a.url, ann, blob.length);
    expect(await putPart(a.url, ann, id, 0, blob.subarray(0, 700_000))).toBe(200);
    // The next part goes through B (a balancer may send any request anywhere).
    expect(await uploadState(b.url, ann, id)).toEqual({ size: 2_621_447, received: 700_000 });
    expect(await putPart(b.url, ann, id, 700_000, blob.subarray(700_000))).toBe(200);
    const whole = await download(b.url, ben, id);
    expect(whole.status).toBe(200);
    expect(same(whole.bytes, blob)).toBe('same');
    const part = await download(a.url, ben, id, 'bytes=699990-700009');
    expect(part.status).toBe(206);
    expect(part.bytes).toEqual(blob.subarray(699_990, 700_010));
    // A range of more than one step, starting inside the first part.
    const long = await download(a.url, ben, id, 'bytes=600000-1748579');
    expect(long.status).toBe(206);
    expect(same(long.bytes, blob.subarray(600_000, 1_748_580))).toBe('same');
  });

  test('P45 instance A SIGKILLed in the middle of an upload part: the resumable upload completes through B, nothing of the cut part stored', async () => {
    const databaseUrl = await cluster.createDatabase();
    const a = await spawnHost(tempDir(), { DATABASE_URL: databaseUrl });
    const b = await host(databaseUrl);
    const ann = await registerUser(a.url, 'ann');
    const blob = data(3 * 1024 * 1024, 9);
    const MiB = 1024 * 1024;
    const id = await createBlob(a.url, ann, blob.length);
    expect(await putPart(a.url, ann, id, 0, blob.subarray(0, MiB))).toBe(200);
    // The second part: half its bytes are on the wire when A dies.
    const cut = new Promise<string>((resolve) => {
      const req = request(`${a.url}${BLOB_API.prefix}${id}?offset=${MiB}`, { method: 'PUT', headers: { ...auth(ann), 'content-length': MiB } });
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', () => resolve('cut'));
      req.write(blob.subarray(MiB, MiB + MiB / 2), () => setTimeout(() => a.child.kill('SIGKILL'), 100));
    });
    expect(await cut).toBe('cut');
    // The client asks where the host is (through B, the one still up) and resumes from there.
    expect(await uploadState(b.url, ann, id)).toEqual({ size: blob.length, received: MiB });
    expect(await putPart(b.url, ann, id, MiB, blob.subarray(MiB, 2 * MiB))).toBe(200);
    expect(await putPart(b.url, ann, id, 2 * MiB, blob.subarray(2 * MiB))).toBe(200);
    const got = await download(b.url, ann, id);
    expect(got.status).toBe(200);
    expect(same(got.bytes, blob)).toBe('same');
  });

  test('P45 retention runs on any instance: a blob uploaded through A is gone through A after B sweeps 30 days later', async () => {
    const url = await cluster.createDatabase();
    let now = Date.now();
    const clock = () => now;
    const [a, b] = [await host(url, clock), await host(url, clock)];
    const ann = await registerUser(a.url, 'ann');
    const old = await createBlob(a.url, ann, 10);
    expect(await putPart(a.url, ann, old, 0, data(10))).toBe(200);
    now += BLOB_RETENTION_MS - 60_000;
    const ben = await registerUser(a.url, 'ben');
    const young = await createBlob(a.url, ben, 10);
    expect(await putPart(a.url, ben, young, 0, data(10, 4))).toBe(200);
    await b.sweep();
    expect((await download(a.url, ben, old)).status).toBe(200);
    now += 120_000;
    await b.sweep();
    // ann's token has expired by now (7 days): a fresh account reads.
    const cat = await registerUser(a.url, 'cat');
    expect((await download(a.url, cat, old)).status).toBe(404);
    expect((await download(a.url, cat, young)).bytes).toEqual(data(10, 4));
  });

  test('P41 a sealed send through A reaches the recipient on B; A\'s sender certificate opens under the trust B serves', async () => {
    const url = await cluster.createDatabase();
    const [a, b] = [await host(url), await host(url)];
    const alice = await registerUser(a.url, 'alice');
    const bob = await registerUser(b.url, 'bob');
    // Bob sets his access through B; Alice's certificate comes from A; the send goes through A.
    const bobKey = generateProfileKey(systemDeps);
    expect(await putAccess(b.url, bob, bobKey)).toBe(200);
    const trustA = decodeTrustResponse((await call(a.url, SEALED_API.trust)).json);
    const trustB = decodeTrustResponse((await call(b.url, SEALED_API.trust)).json);
    expect(trustB.root).toEqual(trustA.root);
    const cert = await call(a.url, SEALED_API.certificate, { token: alice.token });
    expect(cert.status).toBe(200);
    const senderCertificate = decodeSenderCertificate(decodeCertificateResponse(cert.json));
    expect(() => verifySenderCertificate(senderCertificate, trustB, Date.now())).not.toThrow();
    const bobWs = await WsClient.open(b.url, bob.token);
    sockets.push(bobWs);
    const sealed = sealSender(
      { ourIdentity: alice.identity, senderCertificate, theirIdentity: identityPublic(bob.identity), contentType: SealedContentType.session, content: systemDeps.rng(120) },
      systemDeps
    );
    expect(await sealedPost(a.url, 'bob', sealed)).toBe(401);
    expect(await sealedPost(a.url, 'bob', sealed, deliveryToken(bobKey, 'bob'))).toBe(201);
    const pushed = await bobWs.waitFor((f) => f.type === 'envelope');
    if (pushed.type !== 'envelope') throw new Error('not an envelope');
    expect(pushed.sender).toBe('');
    // Bob pinned B's root (trust on first use at B); the envelope sealed with A's certificate opens.
    const opened = openSealedSender({ message: pushed.body, ourIdentity: bob.identity, ourAddress: { username: 'bob' as never, device: 1 }, trust: trustB }, systemDeps);
    expect(opened.sender.username).toBe('alice');
  });

  test('P41 P40 the sealed-send limit per client address counts sends through every instance', async () => {
    const url = await cluster.createDatabase();
    const limits = { sealedSendPerIp: { max: 4, windowMs: 60_000 } };
    const a = await startHost({ databaseUrl: url, limits });
    const b = await startHost({ databaseUrl: url, limits });
    hosts.push(a, b);
    const bob = await registerUser(a.url, 'bob');
    const bobKey = generateProfileKey(systemDeps);
    expect(await putAccess(a.url, bob, bobKey)).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await sealedPost(i % 2 ? a.url : b.url, 'bob', systemDeps.rng(64), deliveryToken(bobKey, 'bob')));
    expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
  });

  test('P40 P49 lookup limits hold across instances: the per-address count, a used proof of work, and the work budget', async () => {
    const url = await cluster.createDatabase();
    const now = Date.now();
    const limits = { discoveryPerIp: { max: 2, windowMs: 60_000 }, discoveryWorkBits: 10, discoveryWorkPerMinute: 2 };
    const [a, b] = [await host(url, () => now, limits), await host(url, () => now, limits)];
    const ask = async (on: Host, name: string, work?: string) => {
      const res = await fetch(on.url + DISCOVERY_PATH + lookupHashText(usernameLookupHash(name)), work ? { headers: { 'X-Parley-Work': work } } : {});
      await res.body?.cancel();
      return { status: res.status, challenge: res.headers.get('x-parley-work-challenge') };
    };
    const prove = (name: string, slot: number) => encodeWorkProof({ slot, nonce: searchLookupWork(usernameLookupHash(name), slot, 10, 0, 0, 1 << 16)! });
    expect((await ask(a, 'one')).status).toBe(200);
    expect((await ask(b, 'two')).status).toBe(200);
    // The third lookup from this address is refused on either instance.
    const refused = await ask(a, 'three');
    expect(refused.status).toBe(429);
    expect((await ask(b, 'three')).status).toBe(429);
    const { slot } = parseWorkChallenge(refused.challenge!);
    const proof = prove('three', slot);
    expect((await ask(a, 'three', proof)).status).toBe(200);
    // Spent on A, it is spent on B too.
    expect((await ask(b, 'three', proof)).status).toBe(429);
    // The budget of 2 a minute is one budget: one more on B, then none on A.
    expect((await ask(b, 'four', prove('four', slot))).status).toBe(200);
    expect((await ask(a, 'five', prove('five', slot))).status).toBe(429);
  });

  test('P40 profile reads from one address are counted once across instances', async () => {
    const url = await cluster.createDatabase();
    const limits = { profileReadPerIp: { max: 2, windowMs: 60_000 } };
    const [a, b] = [await host(url, undefined, limits), await host(url, undefined, limits)];
    const read = async (on: Host, n: number) => {
      const res = await fetch(on.url + PROFILE_PATH + profileAddressText(new Uint8Array(32).fill(n)));
      await res.body?.cancel();
      return res.status;
    };
    expect([await read(a, 1), await read(b, 2), await read(a, 3), await read(b, 4)]).toEqual([404, 404, 429, 429]);
  });
});


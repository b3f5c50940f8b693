/**
 * Several host instances on one PostgreSQL (DESIGN.md §5, README "Several host instances"): real
 * hosts on loopback ports sharing one real database (tests/support/postgres.ts), in-process or as
 * child processes that are SIGKILLed. Live push crosses instances over LISTEN/NOTIFY
 * (storage/pg/bus.ts), takeover closes sockets on every instance (P37), quotas and rate limits
 * are the store's and so shared (P40), and nothing confirmed is lost when an instance dies (P34)
 * or the database restarts under load.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { SIGNED_OUT_CLOSE_CODE } from '../../src/lib/wire/account-record-api';
import { API, decodeTokenResponse } from '../../src/lib/wire/host-api';
import { openPgStore } from '../../src/host/storage/pg/store';
import { postgresPerFile } from '../support/postgres-per-file';
import { systemDeps } from '../../src/lib/crypto/deps';
import { encodeIdentityPublic, identityPublic } from '../../src/lib/crypto/identity';
import { generateProfileKey, openProfile, profileWriteToken, sealProfile } from '../../src/lib/crypto/profile';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { PROFILE_PATH, PROFILE_WRITE_HEADER, profileAddressText } from '../../src/lib/wire/profile-api';
import { getBlob, lookup, putBlob } from './side-requests';
import { SHARED_NAME_KEY, WsClient, bytesOf, call, login, registerUser, spawnHost, startHost, tempDir, textOf, type TestUser } from './support';
import { nameSeal } from '../../src/host/storage/name-seal';

type Host = Awaited<ReturnType<typeof startHost>>;

const cluster = postgresPerFile({ fsync: true });
const hosts: Host[] = [];
const sockets: WsClient[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) await s.close().catch(() => undefined);
  for (const h of hosts.splice(0)) await h.close();
});

async function twoHosts(limits: Parameters<typeof startHost>[0] = {}): Promise<[Host, Host, string]> {
  const databaseUrl = await cluster.createDatabase();
  const a = await startHost({ ...limits, databaseUrl });
  hosts.push(a);
  const b = await startHost({ ...limits, databaseUrl });
  hosts.push(b);
  return [a, b, databaseUrl];
}

async function tokenAt(url: string, u: TestUser): Promise<Uint8Array> {
  const r = await login(url, u.username, u.identity);
  if (r.status !== 200) throw new Error(`login ${u.username}: ${r.status}`);
  return decodeTokenResponse(r.json).token;
}

async function socket(url: string, token: Uint8Array): Promise<WsClient> {
  const s = await WsClient.open(url, token);
  sockets.push(s);
  return s;
}

describe('several host instances on one PostgreSQL', () => {
  test('a client on instance A messages a client on instance B with live push, in id order, each once', async () => {
    const [a, b] = await twoHosts();
    const alice = await registerUser(a.url, 'alice');
    const carol = await registerUser(b.url, 'carol');
    const bob = await registerUser(b.url, 'bob');
    const bobWs = await socket(b.url, await tokenAt(b.url, bob));
    const aliceWs = await socket(a.url, alice.token);
    const carolWs = await socket(b.url, carol.token);
    expect((await aliceWs.send('bob', bytesOf('hello from A'))).type).toBe('stored');
    const first = await bobWs.waitFor((f) => f.type === 'envelope');
    expect(first).toMatchObject({ type: 'envelope', sender: 'alice' });
    // Interleaved writers on both instances: every envelope arrives once, in server-id order.
    const sends = [];
    for (let i = 0; i < 30; i++) {
      sends.push(aliceWs.send('bob', bytesOf(`a${i}`)));
      sends.push(carolWs.send('bob', bytesOf(`c${i}`)));
    }
    expect((await Promise.all(sends)).every((f) => f.type === 'stored')).toBe(true);
    await bobWs.until(61);
    await new Promise((r) => setTimeout(r, 200));
    const ids = bobWs.envelopes().map((e) => e.serverId);
    expect(ids).toHaveLength(61);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(61);
  });

  test('P37 a takeover committed anywhere closes the old browser\'s sockets on every instance', async () => {
    const [a, b, url] = await twoHosts();
    const dan = await registerUser(a.url, 'dan');
    const onA = await socket(a.url, dan.token);
    const onB = await socket(b.url, await tokenAt(b.url, dan));
    // A third instance's store commits the takeover (as account-record.ts does on whichever instance took the request).
    const other = await openPgStore(url);
    try {
      // The raw adapter, as the store sees names: sealed under the deployment's key.
      await other.takeOverDevice(nameSeal(SHARED_NAME_KEY).seal('dan'), { oneTimePreKeys: [], kemPreKeys: [] }, new Uint8Array(32).fill(1));
    } finally {
      await other.close();
    }
    for (const s of [onA, onB]) {
      const deadline = Date.now() + 5000;
      while (!s.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(s.closeCode).toBe(SIGNED_OUT_CLOSE_CODE);
    }
  });

  test('P43 P19 profiles, group states and discovery answers are the same through every instance', async () => {
    const [a, b] = await twoHosts();
    const ann = await registerUser(a.url, 'ann');
    // Private discovery: a name registered through A is found through B (the index is shared).
    expect(await lookup(b.url, 'ann')).toEqual({ status: 200, body: { exists: true, identity: toBase64Url(encodeIdentityPublic(identityPublic(ann.identity))) } });
    expect(await lookup(b.url, 'nobody')).toEqual({ status: 200, body: { exists: false } });
    // A group state written through A is read through B, and B refuses another write token.
    const address = new Uint8Array(32).fill(7);
    expect(await putBlob(a.url, address, new Uint8Array(32).fill(1), Uint8Array.of(1, 2, 3))).toBe(200);
    expect((await getBlob(b.url, address)).bytes).toEqual(Uint8Array.of(1, 2, 3));
    expect(await putBlob(b.url, address, new Uint8Array(32).fill(2), Uint8Array.of(6))).toBe(403);
    // A profile written through B is read through A.
    const key = generateProfileKey(systemDeps);
    const sealed = sealProfile({ profile: { displayName: 'Ann', about: '', avatar: null }, profileKey: key, username: 'ann' }, systemDeps);
    const put = await fetch(b.url + PROFILE_PATH + profileAddressText(sealed.address), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', [PROFILE_WRITE_HEADER]: toBase64Url(profileWriteToken(ann.identity, sealed.address)) },
      body: new Uint8Array(sealed.blob)
    });
    expect(put.status).toBe(200);
    const got = await fetch(a.url + PROFILE_PATH + profileAddressText(sealed.address));
    expect(openProfile({ blob: new Uint8Array(await got.arrayBuffer()), profileKey: key, username: 'ann' }).displayName).toBe('Ann');
  });

  test('P40 mailbox quotas, sender shares and per-IP rate limits are shared by the instances', async () => {
    const [a, b] = await twoHosts({ limits: { mailboxMaxCount: 4, mailboxSenderShare: 0.5, perIp: { max: 12, windowMs: 60_000 } } });
    const erin = await registerUser(a.url, 'erin');
    const fay = await registerUser(b.url, 'fay');
    const gus = await registerUser(a.url, 'gus');
    const onA = await socket(a.url, erin.token);
    const onB = await socket(b.url, await tokenAt(b.url, erin));
    expect((await onA.send('gus', bytesOf('1'))).type).toBe('stored');
    expect((await onB.send('gus', bytesOf('2'))).type).toBe('stored');
    // erin's share (2 of 4) is used up, counted across both instances.
    expect(await onA.send('gus', bytesOf('3'))).toMatchObject({ type: 'error', code: 'QuotaExceeded' });
    const fayWs = await socket(b.url, fay.token);
    expect((await fayWs.send('gus', bytesOf('4'))).type).toBe('stored');
    expect((await fayWs.send('gus', bytesOf('5'))).type).toBe('stored');
    expect(await fayWs.send('gus', bytesOf('6'))).toMatchObject({ type: 'error', code: 'QuotaExceeded' });
    void gus;
    // Per-IP requests: whatever is left of the window, spent alternately on A and B, runs out once.
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await call(i % 2 ? a.url : b.url, API.challenge)).status);
    const firstRefusal = statuses.indexOf(429);
    expect(firstRefusal).toBeGreaterThan(0);
    expect(statuses.slice(firstRefusal).every((s) => s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeLessThan(12);
  });

  test('P34 an instance SIGKILLed mid-burst: every envelope it confirmed is delivered once, through the other', async () => {
    const databaseUrl = await cluster.createDatabase();
    const env = { DATABASE_URL: databaseUrl };
    const a = await spawnHost(tempDir(), env);
    const b = await spawnHost(tempDir(), env);
    const alice = await registerUser(a.url, 'alice');
    const bob = await registerUser(b.url, 'bob');
    const bobWs = await socket(b.url, bob.token);
    const aliceWs = await socket(a.url, alice.token);
    const confirmed = new Set<number>();
    let refused = 0;
    const burst = Array.from({ length: 400 }, (_, i) =>
      aliceWs.send('bob', bytesOf(`m${i}`)).then(
        (f) => (f.type === 'stored' ? confirmed.add(f.serverId) : refused++),
        () => refused++
      )
    );
    while (confirmed.size < 50) await new Promise((r) => setTimeout(r, 2));
    a.child.kill('SIGKILL');
    await Promise.allSettled(burst);
    expect(confirmed.size).toBeGreaterThanOrEqual(50);
    // bob, on B, got the live pushes; a fresh socket on B replays what is still unacked.
    await bobWs.until(confirmed.size);
    await new Promise((r) => setTimeout(r, 300));
    const live = bobWs.envelopes().map((e) => e.serverId);
    expect(new Set(live).size).toBe(live.length);
    for (const id of confirmed) expect(live).toContain(id);
    const bodies = bobWs.envelopes().map((e) => textOf(e.body));
    expect(new Set(bodies).size).toBe(bodies.length);
    bobWs.ack(live);
    await new Promise((r) => setTimeout(r, 300));
    const again = await socket(b.url, bob.token);
    await new Promise((r) => setTimeout(r, 300));
    expect(again.envelopes()).toEqual([]);
    void refused;
  });

  test('P34 PostgreSQL restarted under load: nothing confirmed is lost, and live push resumes', async () => {
    const [a, b] = await twoHosts();
    const alice = await registerUser(a.url, 'alice');
    const bob = await registerUser(b.url, 'bob');
    const aliceWs = await socket(a.url, alice.token);
    const confirmed = new Set<number>();
    let failures = 0;
    let running = true;
    let n = 0;
    const producer = (async () => {
      while (running) {
        const f = await aliceWs.send('bob', bytesOf(`p${n++}`)).catch(() => undefined);
        if (f?.type === 'stored') confirmed.add(f.serverId);
        else {
          failures++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    while (confirmed.size < 100) await new Promise((r) => setTimeout(r, 5));
    await cluster.crash();
    await cluster.start();
    const after = confirmed.size;
    while (confirmed.size < after + 100) await new Promise((r) => setTimeout(r, 5));
    running = false;
    await producer;
    // Confirmed before, during and after the restart: all there, once each.
    const bobWs = await socket(b.url, bob.token);
    await bobWs.until(confirmed.size, 20_000);
    const got = bobWs.envelopes().map((e) => e.serverId);
    for (const id of confirmed) expect(got).toContain(id);
    expect(new Set(got).size).toBe(got.length);
    // Live push across instances works again after the restart: bob's replay is over and the
    // bus has long reconnected (its backoff is at most 2 s) and re-read every mailbox, so only a
    // NOTIFY from A can bring this one.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await aliceWs.send('bob', bytesOf('after'))).type).toBe('stored');
    await bobWs.waitFor((f) => f.type === 'envelope' && textOf(f.body) === 'after', 10_000);
    void failures;
  }, 60_000);

  test('graceful drain (SIGTERM): sockets close with 1012, the host exits 0, and every send it confirmed is stored', async () => {
    const databaseUrl = await cluster.createDatabase();
    const a = await spawnHost(tempDir(), { DATABASE_URL: databaseUrl });
    const alice = await registerUser(a.url, 'alice');
    const bob = await registerUser(a.url, 'bob');
    const ws = await socket(a.url, alice.token);
    const sends = Array.from({ length: 200 }, (_, i) => ws.send('bob', bytesOf(`d${i}`)).catch(() => undefined));
    await sends[0];
    const exited = new Promise<number | null>((r) => a.child.once('exit', (code) => r(code)));
    a.child.kill('SIGTERM');
    const answers = await Promise.all(sends);
    expect(await exited).toBe(0);
    expect(ws.closeCode).toBe(1012);
    const stored = answers.flatMap((f) => (f?.type === 'stored' ? [f.serverId] : []));
    expect(stored.length).toBeGreaterThan(0);
    // Another instance on the same database has every envelope the drained one confirmed.
    const b = await startHost({ databaseUrl });
    hosts.push(b);
    const bobWs = await socket(b.url, await tokenAt(b.url, bob));
    await bobWs.until(stored.length);
    const got = bobWs.envelopes().map((e) => e.serverId);
    for (const id of stored) expect(got).toContain(id);
  });
});

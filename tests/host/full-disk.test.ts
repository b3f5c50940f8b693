/**
 * P40 a full disk, for real: `maxDatabaseBytes` sets SQLite's max_page_count on the host's
 * connections, so writes fail inside SQLite with SQLITE_FULL exactly as on a full disk (nothing
 * is mocked). Every endpoint that writes answers 503 with Retry-After, the reason is logged,
 * acks still free space, the sweep and a restart work on the full database, nothing stored is lost.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { generateKemPreKey, kemPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { API, decodeTokenResponse, encodePreKeyUpload, encodeRegisterRequest } from '../../src/lib/wire/host-api';
import { encodeClientFrame, type HostFrame } from '../../src/lib/wire/host-frames';
import { WsClient, call, challenge, login, registerUser, registration, startHost, type Reply } from './support';

type Host = Awaited<ReturnType<typeof startHost>>;
let hosts: Host[] = [];
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const h of hosts.splice(0)) await h.close();
});

const CAP = 512 * 1024;
const limits = { maxDatabaseBytes: CAP, mailboxSenderShare: 1, storageRetryAfterMs: 42_000 };

async function start(o: Parameters<typeof startHost>[0] = {}): Promise<Host & { lines: string[] }> {
  const lines: string[] = [];
  const h = await startHost({ limits, log: (l) => lines.push(l), ...o });
  hosts.push(h);
  return { ...h, lines };
}

async function open(url: string, token: Uint8Array): Promise<WsClient> {
  const c = await WsClient.open(url, token);
  clients.push(c);
  return c;
}

const isFull = (f: HostFrame) => f.type === 'error' && f.code === 'Unavailable';

/** Sends 3000-byte envelopes (about a page each) until the store refuses one; returns the stored ids. */
async function fill(ws: WsClient, to: string): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = await ws.send(to, new Uint8Array(3000).fill(i & 0xff));
    if (isFull(r)) return ids;
    if (r.type !== 'stored') throw new Error(`unexpected ${JSON.stringify(r)}`);
    ids.push(r.serverId);
  }
  throw new Error(`the database never filled up (${ids.length} envelopes stored)`);
}

/** Repeats `attempt` until it answers 503: every answer before must be a success, none a 500. */
async function untilUnavailable(what: string, attempt: () => Promise<Reply>): Promise<Reply> {
  for (let i = 0; i < 300; i++) {
    const r = await attempt();
    if (r.status === 503) return r;
    expect(r.status, `${what}: ${JSON.stringify(r.json)}`).toBeLessThan(300);
  }
  throw new Error(`${what} never answered 503 on a full database`);
}

function expectUnavailable(r: Reply): void {
  expect(r.status).toBe(503);
  expect(r.json.error.code).toBe('Unavailable');
  expect(r.headers.get('retry-after')).toBe('42');
}

describe('P40 a full disk', () => {
  test('P40 a full database: every writing endpoint answers 503 with Retry-After, the reason is logged, reads keep working', async () => {
    const host = await start();
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const aliceWs = await open(host.url, alice.token);
    const stored = await fill(aliceWs, 'bob');
    expect(stored.length).toBeGreaterThan(10);

    expectUnavailable(await call(host.url, API.messages + 'bob', { token: alice.token, body: new Uint8Array(3000) }));
    expectUnavailable(
      await untilUnavailable('registration', async () => {
        const id = generateIdentity(systemDeps);
        const name = `u${Math.random().toString(36).slice(2, 10)}`;
        return call(host.url, API.accounts, { json: encodeRegisterRequest(registration(name, id, await challenge(host.url))) });
      })
    );
    expectUnavailable(await untilUnavailable('login', () => login(host.url, 'alice', alice.identity)));
    let kemId = 100;
    expectUnavailable(
      await untilUnavailable('prekey upload', () =>
        call(host.url, API.prekeys, {
          token: alice.token,
          json: encodePreKeyUpload({ oneTimePreKeys: [], kemPreKeys: [kemPreKeyPublic(generateKemPreKey(alice.identity, kemId++, false, systemDeps))] })
        })
      )
    );
    expect(host.lines.some((l) => /^storage: mailbox commit failed: storage full \(SQLITE_FULL\)/.test(l))).toBe(true);
    expect(host.lines.some((l) => /^storage: POST \/api\/v1\/accounts failed: .*SQLITE_FULL/.test(l))).toBe(true);
    expect(host.lines.some((l) => / 500 /.test(l))).toBe(false);

    // Reads still work, and nothing stored was lost.
    expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
    expect((await call(host.url, API.usernames + 'carol')).status).toBe(200);
    const bobWs = await open(host.url, bob.token);
    await bobWs.until(stored.length);
    expect(bobWs.envelopes().map((e) => e.serverId)).toEqual(stored);
  });

  test('P40 acks free space on a full database, even when they share a batch with a refused send', async () => {
    const host = await start();
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const aliceWs = await open(host.url, alice.token);
    const stored = await fill(aliceWs, 'bob');
    const bobWs = await open(host.url, bob.token);
    await bobWs.until(stored.length);
    // One write, so both frames land in one tick and one mailbox batch: a send that cannot be
    // stored and an ack of half the mailbox.
    const acked = stored.slice(0, Math.floor(stored.length / 2));
    const socket = (bobWs.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    bobWs.ws.send(encodeClientFrame({ type: 'send', reqId: 77, to: 'alice', body: new Uint8Array(3000) }));
    bobWs.ws.send(encodeClientFrame({ type: 'ack', ids: acked }));
    socket.uncork();
    const refused = await bobWs.waitFor((f) => f.type === 'error' && f.reqId === 77);
    expect(refused).toMatchObject({ code: 'Unavailable' });
    // The ack went through: acking again finds nothing, and there is room again.
    await expect.poll(async () => (await call(host.url, API.acks, { token: bob.token, json: { ids: acked } })).json.acked, { timeout: 5000 }).toBe(0);
    expect(bobWs.frames.filter((f) => f.type === 'error' && f.reqId === 0)).toEqual([]);
    expect((await aliceWs.send('bob', new Uint8Array(3000))).type).toBe('stored');
    const again = await open(host.url, bob.token);
    await again.until(stored.length - acked.length + 1);
    expect(again.envelopes().slice(0, stored.length - acked.length).map((e) => e.serverId)).toEqual(stored.slice(acked.length));
  });

  test('P40 the retention sweep and a restart work on a full database; the sweep frees it', async () => {
    let now = 1_800_000_000_000;
    const host = await start({ clock: () => now });
    const dataDir = host.dataDir;
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const aliceWs = await open(host.url, alice.token);
    const stored = await fill(aliceWs, 'bob');
    aliceWs.ws.terminate();
    await host.close();
    hosts = [];

    // The host starts on the full database (its startup sweep finds nothing old yet) and answers.
    const restarted = await start({ clock: () => now, dataDir });
    expect((await fetch(`${restarted.url}/healthz`)).status).toBe(200);
    expectUnavailable(await call(restarted.url, API.messages + 'bob', { token: alice.token, body: new Uint8Array(3000) }));
    // Thirty days on, the sweep deletes everything on the full database and there is room again.
    now += 31 * 86_400_000;
    expect(await restarted.sweep()).toBe(stored.length);
    // (The tokens expired meanwhile and went with the sweep too.)
    const [aliceLogin, bobLogin] = [await login(restarted.url, 'alice', alice.identity), await login(restarted.url, 'bob', bob.identity)];
    expect([aliceLogin.status, bobLogin.status]).toEqual([200, 200]);
    const r = await call(restarted.url, API.messages + 'bob', { token: decodeTokenResponse(aliceLogin.json).token, body: new Uint8Array(3000) });
    expect(r.status).toBe(201);
    const bobWs = await open(restarted.url, decodeTokenResponse(bobLogin.json).token);
    await bobWs.until(1);
    expect(bobWs.envelopes().map((e) => e.serverId)).toEqual([r.json.serverId]);
  });
});

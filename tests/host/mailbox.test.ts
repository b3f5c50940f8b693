/**
 * Mailbox over real HTTP and WebSocket on a real SQLite file: store, push, ack, delete,
 * redelivery in order on reconnect and after a restart, size and quota errors, retention,
 * and malformed input that changes nothing.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { ENVELOPE_SEAL_OVERHEAD } from '../../src/host/storage/envelope-seal';
import { API } from '../../src/lib/wire/host-api';
import { WsClient, bytesOf, call, registerUser, startHost, textOf } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await host?.close();
  host = undefined;
});

async function open(url: string, token: Uint8Array): Promise<WsClient> {
  const c = await WsClient.open(url, token);
  clients.push(c);
  return c;
}

describe('store, push, ack', () => {
  test('an envelope sent over HTTP is stored, pushed to the connected recipient, and deleted on ack', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const bobWs = await open(host.url, bob.token);
    const r = await call(host.url, API.messages + 'bob', { token: alice.token, body: bytesOf('ciphertext-1') });
    expect(r.status).toBe(201);
    const env = await bobWs.waitFor((f) => f.type === 'envelope');
    expect(env).toMatchObject({ type: 'envelope', serverId: r.json.serverId, sender: 'alice' });
    if (env.type !== 'envelope') throw new Error('unreachable');
    expect(textOf(env.body)).toBe('ciphertext-1');
    const ack = await call(host.url, API.acks, { token: bob.token, json: { ids: [env.serverId] } });
    expect(ack.json).toEqual({ acked: 1 });
    // Deleted: a new connection gets nothing, and acking again deletes nothing.
    const again = await open(host.url, bob.token);
    await new Promise((r) => setTimeout(r, 100));
    expect(again.envelopes()).toEqual([]);
    expect((await call(host.url, API.acks, { token: bob.token, json: { ids: [env.serverId] } })).json).toEqual({ acked: 0 });
  });

  test('sending over the WebSocket replies Stored with the request id; only the recipient can ack', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const aliceWs = await open(host.url, alice.token);
    const stored = await aliceWs.send('bob', bytesOf('hello'));
    expect(stored.type).toBe('stored');
    if (stored.type !== 'stored') throw new Error('unreachable');
    // alice cannot delete bob's envelope.
    expect((await call(host.url, API.acks, { token: alice.token, json: { ids: [stored.serverId] } })).json).toEqual({ acked: 0 });
    const bobWs = await open(host.url, bob.token);
    await bobWs.until(1);
    expect(bobWs.envelopes()[0]!.serverId).toBe(stored.serverId);
  });

  test('unknown recipient, empty and oversized envelopes are refused with clear codes and store nothing', async () => {
    host = await startHost({ limits: { maxEnvelopeBytes: 1000 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const noUser = await call(host.url, API.messages + 'nobody', { token: alice.token, body: bytesOf('x') });
    expect([noUser.status, noUser.json.error.code]).toEqual([404, 'NoSuchUser']);
    const big = await call(host.url, API.messages + 'bob', { token: alice.token, body: new Uint8Array(1001) });
    expect([big.status, big.json.error.code]).toEqual([413, 'TooLarge']);
    const ws = await open(host.url, alice.token);
    const wsBig = await ws.send('bob', new Uint8Array(1001));
    expect(wsBig).toMatchObject({ type: 'error', code: 'TooLarge' });
    const bobWs = await open(host.url, bob.token);
    await new Promise((r) => setTimeout(r, 100));
    expect(bobWs.envelopes()).toEqual([]);
  });

  test('a full mailbox answers 507 QuotaExceeded (count and bytes) until the recipient acks', async () => {
    host = await startHost({ limits: { mailboxMaxCount: 3, mailboxMaxBytes: 1000, mailboxSenderShare: 1 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    await registerUser(host.url, 'carol');
    for (let i = 0; i < 3; i++) expect((await call(host.url, API.messages + 'bob', { token: alice.token, body: new Uint8Array(10) })).status).toBe(201);
    const full = await call(host.url, API.messages + 'bob', { token: alice.token, body: new Uint8Array(10) });
    expect([full.status, full.json.error.code]).toEqual([507, 'QuotaExceeded']);
    // The quota counts stored bytes: each body plus its seal at rest (README "Envelopes at rest").
    const bytes = await call(host.url, API.messages + 'carol', { token: alice.token, body: new Uint8Array(1000 - ENVELOPE_SEAL_OVERHEAD) });
    expect(bytes.status).toBe(201);
    const overBytes = await call(host.url, API.messages + 'carol', { token: alice.token, body: new Uint8Array(1) });
    expect(overBytes.status).toBe(507);
    const bobWs = await open(host.url, bob.token);
    await bobWs.until(3);
    bobWs.ack([bobWs.envelopes()[0]!.serverId]);
    await new Promise((r) => setTimeout(r, 50));
    expect((await call(host.url, API.messages + 'bob', { token: alice.token, body: new Uint8Array(10) })).status).toBe(201);
  });

  test('malformed frames and bodies get an error and change nothing', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const ws = await open(host.url, alice.token);
    ws.sendRaw(new Uint8Array([0x02, 0, 0, 0, 1, 3, 0x42, 0x4f, 0x42, 1])); // uppercase recipient
    ws.sendRaw('{"type":"send"}');
    ws.sendRaw(new Uint8Array([0x03, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1])); // ack claims 2 ids, carries 1
    ws.sendRaw(new Uint8Array([0x7f]));
    await ws.waitFor(() => ws.frames.filter((f) => f.type === 'error').length === 4);
    expect(ws.frames.filter((f) => f.type === 'error').every((f) => f.type === 'error' && f.code === 'BadRequest' && f.reqId === 0)).toBe(true);
    expect((await call(host.url, API.acks, { token: bob.token, json: { ids: ['1'] } })).status).toBe(400);
    expect((await call(host.url, API.acks, { token: bob.token, rawJson: '[]' })).status).toBe(400);
    const bobWs = await open(host.url, bob.token);
    await new Promise((r) => setTimeout(r, 100));
    expect(bobWs.envelopes()).toEqual([]);
  });
});

describe('redelivery', () => {
  test('P34 unacked envelopes are redelivered on reconnect, in order; acked ones are not', async () => {
    host = await startHost({ limits: { redeliveryPage: 7 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const aliceWs = await open(host.url, alice.token);
    for (let i = 0; i < 30; i++) await aliceWs.send('bob', bytesOf(`m${i}`));
    const first = await open(host.url, bob.token);
    await first.until(30);
    expect(first.envelopes().map((e) => textOf(e.body))).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
    first.ack(first.envelopes().slice(0, 10).map((e) => e.serverId));
    await new Promise((r) => setTimeout(r, 50));
    await first.close();
    const second = await open(host.url, bob.token);
    await second.until(20);
    await new Promise((r) => setTimeout(r, 100));
    expect(second.envelopes().map((e) => textOf(e.body))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 10}`));
  });

  test('P34 envelopes sent while the recipient replays a backlog arrive after it, in id order, once', async () => {
    host = await startHost({ limits: { redeliveryPage: 5 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const aliceWs = await open(host.url, alice.token);
    for (let i = 0; i < 40; i++) await aliceWs.send('bob', bytesOf(`old${i}`));
    const bobWs = await open(host.url, bob.token);
    const live = Array.from({ length: 20 }, (_, i) => aliceWs.send('bob', bytesOf(`new${i}`)));
    await Promise.all(live);
    await bobWs.until(60);
    await new Promise((r) => setTimeout(r, 100));
    const ids = bobWs.envelopes().map((e) => e.serverId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(60);
  });

  test('P34 unacked envelopes survive a graceful restart on the same data directory', async () => {
    host = await startHost();
    const { dataDir } = host;
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    for (let i = 0; i < 5; i++) await call(host.url, API.messages + 'bob', { token: alice.token, body: bytesOf(`r${i}`) });
    for (const c of clients.splice(0)) await c.close();
    await host.close();
    host = await startHost({ dataDir });
    const bobWs = await open(host.url, bob.token);
    await bobWs.until(5);
    expect(bobWs.envelopes().map((e) => textOf(e.body))).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  test('retention: envelopes older than 30 days are swept (injected clock), newer ones stay', async () => {
    let now = 1_800_000_000_000;
    host = await startHost({ clock: () => now, limits: { tokenTtlMs: 90 * 86_400_000 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    await call(host.url, API.messages + 'bob', { token: alice.token, body: bytesOf('old') });
    now += 20 * 86_400_000;
    await call(host.url, API.messages + 'bob', { token: alice.token, body: bytesOf('recent') });
    now += 10 * 86_400_000 + 1;
    expect(await host.sweep()).toBe(1);
    const bobWs = await open(host.url, bob.token);
    await bobWs.until(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(bobWs.envelopes().map((e) => textOf(e.body))).toEqual(['recent']);
  });
});

/**
 * P40 the host survives hostile input, on real sockets: malformed request targets (against the
 * host as its own process, so a crash would show as a dead process), slow readers, stalled
 * readers, malformed-frame floods and too many sockets for one account.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { encodeClientFrame } from '../../src/lib/wire/host-frames';
import { WsClient, bytesOf, registerUser, spawnHost, startHost, tempDir } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await host?.close();
  host = undefined;
});

async function open(url: string, token: Uint8Array): Promise<WsClient> {
  const c = await WsClient.open(url, token);
  clients.push(c);
  return c;
}

/** Writes one raw request and returns what came back before the host closed (or 2 s passed). */
function rawRequest(port: number, target: string, upgrade: boolean): Promise<string> {
  const headers = upgrade
    ? 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
    : 'Connection: close\r\n';
  return new Promise((resolve) => {
    let out = '';
    const s = connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`));
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, 2000);
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', done);
    s.on('error', done);
  });
}

const until = async (check: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('P40 request targets', () => {
  test('P40 a malformed request target does not crash the host: 400 or a dropped socket, with or without Upgrade', async () => {
    const h = await spawnHost(tempDir());
    const targets = ['//', '//[', '/\\', '//[/api/v1/ws', '/\\evil/api/v1/ws', '//evil.example/api/v1/ws', '*', 'http://[/', '/api/v1/usernames/%E0%A4%A'];
    for (const target of targets) {
      for (const upgrade of [false, true]) {
        const answer = await rawRequest(h.port, target, upgrade);
        // Either a 400 status line or nothing at all (socket dropped); never a 5xx, never a crash.
        expect(answer === '' || answer.startsWith('HTTP/1.1 400 '), `${target} upgrade=${upgrade}: ${answer.slice(0, 40)}`).toBe(true);
        expect(h.child.exitCode, `host died on ${target}`).toBe(null);
      }
    }
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
    // A well-formed absolute-form target (RFC 9112 §3.2.2) still works.
    expect(await rawRequest(h.port, `${h.url}/healthz`, false)).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('P40 slow and stalled readers', () => {
  const highWater = 256 * 1024;
  const body = (i: number) => {
    const b = new Uint8Array(200 * 1024);
    b.fill(i & 0xff);
    b.set(bytesOf(`envelope-${i}`));
    return b;
  };

  test('P40 a slow reader: the host queues at most the high-water mark (plus one envelope) for its socket, then replays everything in order', async () => {
    host = await startHost({ limits: { wsHighWaterBytes: highWater, redeliveryPageBytes: highWater } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const bobWs = await open(host.url, bob.token);
    bobWs.ws.pause(); // bob stops reading his socket
    const aliceWs = await open(host.url, alice.token);
    const n = 80; // 16 MB: far more than the kernel's socket buffers take on loopback
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, ...host!.sockets().map((x) => x.queuedBytes))), 5);
    try {
      for (let i = 0; i < n; i++) expect((await aliceWs.send('bob', body(i))).type).toBe('stored');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      clearInterval(sample);
    }
    peak = Math.max(peak, ...host.sockets().map((x) => x.queuedBytes));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(highWater + 200 * 1024 + 64);
    bobWs.ws.resume();
    await bobWs.until(n, 30_000);
    const got = bobWs.envelopes();
    expect(got.map((e) => new TextDecoder().decode(e.body.subarray(0, 12)).replace(/\0.*$/, ''))).toEqual(
      Array.from({ length: n }, (_, i) => new TextDecoder().decode(body(i).subarray(0, 12)).replace(/\0.*$/, ''))
    );
    const ids = got.map((e) => e.serverId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(n);
  });

  test('P40 a reader that stays stalled past wsStallMs is dropped; what it missed is redelivered on reconnect', async () => {
    host = await startHost({ limits: { wsHighWaterBytes: 64 * 1024, wsStallMs: 300 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const bobWs = await open(host.url, bob.token);
    bobWs.ws.pause();
    const aliceWs = await open(host.url, alice.token);
    for (let i = 0; i < 40; i++) expect((await aliceWs.send('bob', body(i))).type).toBe('stored');
    // Only alice's socket is left once bob's stalled socket is dropped.
    await until(() => host!.sockets().length === 1, 'the stalled socket to be dropped');
    const again = await open(host.url, bob.token);
    await again.until(40, 30_000);
    expect(new Set(again.envelopes().map((e) => e.serverId)).size).toBe(40);
  });

  test('P40 a socket whose queue passes wsMaxBufferedBytes is dropped at once', async () => {
    // The push high-water mark is out of the way here: only the hard cap can stop the queue.
    host = await startHost({ limits: { wsHighWaterBytes: 256 * 1024 * 1024, wsMaxBufferedBytes: 1024 * 1024, wsStallMs: 600_000 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const bobWs = await open(host.url, bob.token);
    bobWs.ws.pause();
    const aliceWs = await open(host.url, alice.token);
    let peak = 0;
    for (let i = 0; i < 60 && host.sockets().length === 2; i++) {
      expect((await aliceWs.send('bob', body(i))).type).toBe('stored');
      peak = Math.max(peak, ...host.sockets().map((x) => x.queuedBytes));
    }
    await until(() => host!.sockets().length === 1, 'the overfull socket to be dropped');
    expect(peak).toBeLessThanOrEqual(1024 * 1024 + 2 * 200 * 1024);
  });
});

describe('P40 floods', () => {
  test('P40 a client that pipelines sends without waiting: the host holds at most wsMaxPendingSendBytes of them, then stores them all', async () => {
    const cap = 512 * 1024;
    host = await startHost({ limits: { wsMaxPendingSendBytes: cap } });
    const alice = await registerUser(host.url, 'alice');
    await registerUser(host.url, 'bob');
    const ws = await open(host.url, alice.token);
    const n = 60; // 12 MB sent at once
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, ...host!.sockets().map((x) => x.pendingSendBytes))), 1);
    try {
      for (let i = 1; i <= n; i++) ws.ws.send(encodeClientFrame({ type: 'send', reqId: i, to: 'bob', body: new Uint8Array(200 * 1024).fill(i) }));
      await until(() => ws.frames.filter((f) => f.type === 'stored').length === n, 'every send to be stored', 30_000);
    } finally {
      clearInterval(sample);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(cap + 2 * 200 * 1024);
  });

  test('P40 a malformed-frame flood is closed with 1008 after a bounded number of error replies', async () => {
    host = await startHost({ limits: { wsMaxMalformedFrames: 16 } });
    const alice = await registerUser(host.url, 'alice');
    const ws = await open(host.url, alice.token);
    for (let i = 0; i < 2000 && !ws.closed; i++) ws.sendRaw(i % 2 ? new Uint8Array([0x7f, i & 0xff]) : 'not a frame');
    await until(() => ws.closed, 'the flooding socket to close');
    expect(ws.closeCode).toBe(1008);
    expect(ws.frames.filter((f) => f.type === 'error').length).toBeLessThanOrEqual(16);
    // The account itself is fine: a new socket authenticates and sends.
    const fresh = await open(host.url, alice.token);
    expect((await fresh.send('alice', bytesOf('still here'))).type).toBe('stored');
  });

  test('P40 sockets per account are capped: one more is closed with 1013, the others keep working', async () => {
    host = await startHost({ limits: { wsPerAccount: 3 } });
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const mine = [await open(host.url, alice.token), await open(host.url, alice.token), await open(host.url, alice.token)];
    const extra = await WsClient.open(host.url);
    clients.push(extra);
    extra.ws.send(encodeClientFrame({ type: 'auth', token: alice.token }));
    await until(() => extra.closed, 'the extra socket to be refused');
    expect(extra.closeCode).toBe(1013);
    expect(extra.frames.some((f) => f.type === 'ready')).toBe(false);
    // Another account is not affected, and the three sockets still work.
    await open(host.url, bob.token);
    for (const c of mine) expect((await c.send('bob', bytesOf('hi'))).type).toBe('stored');
    // Closing one frees a place.
    await mine[0]!.close();
    await until(() => host!.sockets().length === 3, 'the closed socket to go');
    expect((await open(host.url, alice.token)).closed).toBe(false);
  });
});

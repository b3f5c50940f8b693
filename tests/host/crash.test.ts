/**
 * P34 (host part): the real host as a child process (`node --import tsx src/host/main.ts`),
 * killed with SIGKILL in the middle of a burst, or stopped with SIGTERM, then restarted on the
 * same data directory. Every envelope whose sender got a 'stored' ack must reach the recipient;
 * after the recipient's ack loop, each arrives once.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeHostFrame, encodeClientFrame } from '../../src/lib/wire/host-frames';
import { WsClient, bytesOf, registerUser, spawnHost, tempDir, textOf, type TestUser } from './support';

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

/**
 * A sustained burst: keeps `window` sends in flight (each 'stored' reply triggers the next) until
 * the socket dies or `max` are sent, calling `onStored(count)` on every reply as it arrives.
 * Returns the bodies the host acknowledged and a counter of sends written.
 */
function burst(ws: WsClient, to: string, tag: string, onStored: (count: number) => void, window = 200, max = 50_000) {
  const stored = new Set<string>();
  const pending = new Map<number, string>();
  let sent = 0;
  const sendOne = () => {
    if (sent >= max || ws.ws.readyState !== ws.ws.OPEN) return;
    const body = `${tag}-${sent}`;
    pending.set(++sent, body);
    ws.ws.send(encodeClientFrame({ type: 'send', reqId: sent, to, body: bytesOf(body) }));
  };
  ws.ws.on('message', (data: Buffer) => {
    const f = decodeHostFrame(new Uint8Array(data));
    if (f.type !== 'stored') return;
    stored.add(pending.get(f.reqId)!);
    pending.delete(f.reqId);
    onStored(stored.size);
    sendOne();
  });
  for (let i = 0; i < window; i++) sendOne();
  return { stored, sent: () => sent };
}

/** Connects as `user`, acks everything it receives, and returns bodies in arrival order once quiet. */
async function drainMailbox(url: string, user: TestUser, quietMs = 600): Promise<string[]> {
  const ws = await WsClient.open(url, user.token);
  let seen = 0;
  let lastChange = Date.now();
  while (Date.now() - lastChange < quietMs) {
    const envs = ws.envelopes();
    if (envs.length > seen) {
      const ids = envs.slice(seen).map((e) => e.serverId);
      for (let i = 0; i < ids.length; i += 1000) ws.ack(ids.slice(i, i + 1000));
      seen = envs.length;
      lastChange = Date.now();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100)); // let the last ack commit
  await ws.close();
  return ws.envelopes().map((e) => textOf(e.body));
}

describe('P34 host crash and restart', () => {
  test('P34 SIGKILL mid-burst: every stored-acked envelope is delivered after restart, each once after acks', async () => {
    const dataDir = tempDir();
    const first = await spawnHost(dataDir);
    const alice = await registerUser(first.url, 'alice');
    const bob = await registerUser(first.url, 'bob');
    const aliceWs = await WsClient.open(first.url, alice.token);
    let killed = false;
    const b = burst(aliceWs, 'bob', 'k', (count) => {
      if (count === 1000 && !killed) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    });
    expect(await exited(first.child)).toBe(null); // killed by signal, no exit code
    await new Promise((r) => setTimeout(r, 100));
    const promised = new Set(b.stored);
    expect(promised.size).toBeGreaterThanOrEqual(1000);
    expect(b.sent()).toBeGreaterThan(promised.size); // sends were in flight: the kill was mid-burst

    const second = await spawnHost(dataDir);
    const delivered = await drainMailbox(second.url, bob);
    for (const body of promised) expect(delivered, `lost ${body}`).toContain(body);
    expect(new Set(delivered).size).toBe(delivered.length);
    // Order is the send order (ids are assigned in arrival order on one socket).
    const indices = delivered.map((b) => Number(b.slice(2)));
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    // After the ack loop, nothing is redelivered.
    expect(await drainMailbox(second.url, bob, 300)).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  });

  test('P34 graceful SIGTERM during a burst loses nothing acknowledged and checkpoints the WAL', async () => {
    const dataDir = tempDir();
    const first = await spawnHost(dataDir);
    const alice = await registerUser(first.url, 'alice');
    const bob = await registerUser(first.url, 'bob');
    const aliceWs = await WsClient.open(first.url, alice.token);
    let signalled = false;
    const b = burst(aliceWs, 'bob', 't', (count) => {
      if (count === 1000 && !signalled) {
        signalled = true;
        first.child.kill('SIGTERM');
      }
    });
    expect(await exited(first.child)).toBe(0);
    const promised = new Set(b.stored);
    expect(promised.size).toBeGreaterThanOrEqual(1000);
    const wal = join(dataDir, 'parley.sqlite-wal');
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);

    const second = await spawnHost(dataDir);
    const delivered = await drainMailbox(second.url, bob);
    for (const body of promised) expect(delivered, `lost ${body}`).toContain(body);
    expect(new Set(delivered).size).toBe(delivered.length);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  });
});

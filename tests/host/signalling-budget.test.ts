/**
 * SECURITY.md P40, memory per connection on the PeerJS signalling sockets (no account needed):
 * a socket that floods frames is dropped, and so is one that stops reading what is relayed to
 * it, while a call-sized exchange passes (src/host/calls/signalling-guard.ts). Real sockets: the
 * signalling server on a loopback HTTP server with small budgets, and the real host's defaults.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createSignalling, type Signalling } from '../../src/host/calls/signalling';
import { DEFAULT_SIGNALLING_BUDGET, type SignallingBudget } from '../../src/host/calls/signalling-guard';
import { startHost } from './support';

const hexId = () => randomBytes(16).toString('hex');
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function signallingServer(budget: Partial<SignallingBudget>): Promise<{ base: string; sig: Signalling }> {
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const sig = createSignalling(server, { budget });
  server.on('upgrade', (req, socket, head) => {
    if (!sig.upgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => (sig.close(), server.close(() => r()))));
  return { base: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, sig };
}

interface Peer {
  id: string;
  ws: WebSocket;
  got: { type: string }[];
}

async function peer(base: string): Promise<Peer> {
  const id = hexId();
  const ws = new WebSocket(`${base}/peerjs/peerjs?key=peerjs&id=${id}&token=abc123&version=1.5.5`);
  const got: { type: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string };
      if (m.type === 'OPEN') resolve();
      else got.push(m);
    });
    ws.once('error', reject);
  });
  closers.push(() => ws.terminate());
  return { id, ws, got };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const offer = (dst: string, size = 200) => JSON.stringify({ type: 'OFFER', dst, payload: { sdp: 'x'.repeat(size) } });

test('P40 a signalling socket that floods frames is dropped, and nothing past its budget is relayed; a call-sized exchange passes', async () => {
  const { base, sig } = await signallingServer({ windowMs: 60_000, maxMessages: 50 });
  const [a, b] = [await peer(base), await peer(base)];
  for (let i = 0; i < 40; i++) a.ws.send(offer(b.id));
  await until(() => b.got.length === 40, 'the call-sized exchange to arrive');
  for (let i = 0; i < 30; i++) a.ws.send(offer(b.id));
  await until(() => a.ws.readyState === WebSocket.CLOSED, 'the flooder to be dropped');
  await until(() => sig.peerCount() === 1, 'the flooder to be forgotten');
  // Exactly the budget reached b, nothing more.
  await new Promise((r) => setTimeout(r, 200));
  expect(b.got.filter((m) => m.type === 'OFFER')).toHaveLength(50);
  expect(b.ws.readyState).toBe(WebSocket.OPEN);
});

test('P40 a signalling reader that stops reading is dropped once its unsent queue passes the mark; the sender is not', async () => {
  const { base, sig } = await signallingServer({ maxMessages: 1_000_000, maxBytes: 1 << 30, maxBufferedBytes: 256 * 1024 });
  const [a, b] = [await peer(base), await peer(base)];
  b.ws.pause(); // b stops reading its socket
  let sent = 0;
  while (sig.peerCount() === 2) {
    expect(sent, 'b should be dropped long before 64 MiB').toBeLessThan(64 * 1024 * 1024);
    for (let i = 0; i < 64; i++) a.ws.send(offer(b.id, 15_000));
    sent += 64 * 15_000;
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(sig.peerCount()).toBe(1);
  expect(a.ws.readyState).toBe(WebSocket.OPEN);
});

test('P40 the real host applies the signalling budget: a flood to made-up ids closes the socket', async () => {
  const host = await startHost();
  closers.push(() => host.close());
  const a = await peer(host.url.replace('http', 'ws'));
  for (let i = 0; i < DEFAULT_SIGNALLING_BUDGET.maxMessages + 20; i++) a.ws.send(offer(hexId()));
  await until(() => a.ws.readyState === WebSocket.CLOSED, 'the flooder to be dropped');
});

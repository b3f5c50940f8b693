/**
 * P29 against a real coturn (Debian package, tests/support/coturn.ts) on loopback: the TURN
 * credentials a running host hands out at GET /api/v1/calls/ice open a relay allocation, and
 * bytes really flow through the relayed address; credentials the host minted longer ago than
 * their lifetime, or altered, are refused by coturn itself. The TURN client speaks raw RFC 8656
 * over UDP (tests/support/turn-client.ts).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ICE_PATH } from '../../src/host/calls';
import { mintTurnCredential } from '../../src/host/calls/turn';
import { startCoturn, type Coturn } from '../support/coturn';
import { TurnClient } from '../support/turn-client';
import { call, registerUser, startHost } from './support';

interface IceReply {
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  expiresAt: number | null;
}

/** Starts a host configured for `turn` (TURN_* from the environment, as main.ts reads them) and fetches alice's ICE servers. */
async function iceFromHost(turn: Coturn, clock?: () => number): Promise<{ username: string; credential: string; urls: string[] }> {
  const saved = { ...process.env };
  Object.assign(process.env, { TURN_SECRET: turn.secret, TURN_URLS: turn.urls.join(','), TURN_TTL: '600' });
  const host = await startHost(clock ? { clock } : {});
  try {
    const alice = await registerUser(host.url, 'alice');
    const r = await call(host.url, ICE_PATH, { token: alice.token });
    expect(r.status).toBe(200);
    const t = (r.json as IceReply).iceServers.find((s) => s.username !== undefined)!;
    return { username: t.username!, credential: t.credential!, urls: [t.urls].flat() };
  } finally {
    process.env = saved;
    await host.close();
  }
}

function udpPeer(): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

describe('TURN relay on a real coturn', () => {
  let turn: Coturn;
  const clients: TurnClient[] = [];
  beforeAll(async () => {
    turn = await startCoturn();
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) await c.release();
    await turn?.stop();
  });
  const client = async () => {
    const c = await TurnClient.open(turn.ip, turn.port);
    clients.push(c);
    return c;
  };

  test('P29 the host\'s fresh credentials allocate a relay on coturn, and data flows through it both ways', async () => {
    const cred = await iceFromHost(turn);
    expect(cred.urls).toEqual(turn.urls);
    const c = await client();
    const a = await c.allocate(cred.username, cred.credential);
    if (!a.ok) throw new Error(`allocation refused: ${a.error.code} ${a.error.reason}`);
    expect(a.relayed.address).toBe(turn.ip);
    expect(a.lifetime).toBeGreaterThan(0);

    const peer = await udpPeer();
    try {
      const peerAddr = { address: '127.0.0.1', port: (peer.address() as { port: number }).port };
      expect(await c.createPermission(peerAddr)).toBeUndefined();
      const arrived = new Promise<{ data: string; from: number }>((r) => peer.once('message', (m, from) => r({ data: m.toString(), from: from.port })));
      c.sendTo(peerAddr, Buffer.from('through the relay'));
      // The peer sees the relayed address, never the client's own.
      expect(await arrived).toEqual({ data: 'through the relay', from: a.relayed.port });
      peer.send('and back', a.relayed.port, a.relayed.address);
      const back = await c.nextData();
      expect(back.data.toString()).toBe('and back');
      expect(back.from).toEqual(peerAddr);
    } finally {
      peer.close();
    }
  });

  test('P29 credentials the host minted more than their lifetime ago are refused by coturn', async () => {
    // A host whose clock reads 11 minutes ago mints what a host minted 11 minutes ago (TTL 10).
    const stale = await iceFromHost(turn, () => Date.now() - 11 * 60_000);
    const r = await (await client()).allocate(stale.username, stale.credential);
    expect(r).toEqual({ ok: false, error: { code: 401, reason: expect.any(String) } });
  });

  test('P29 a stretched expiry or another secret is refused: coturn checks the HMAC', async () => {
    const now = Date.now();
    const fresh = mintTurnCredential(turn.secret, now, 600);
    const [expiry, rand] = fresh.username.split(':');
    const stretched = await (await client()).allocate(`${Number(expiry) + 86_400}:${rand}`, fresh.credential);
    expect(stretched.ok).toBe(false);
    const foreign = mintTurnCredential('not-the-secret', now, 600);
    const wrong = await (await client()).allocate(foreign.username, foreign.credential);
    expect(wrong.ok).toBe(false);
    // Control: the unaltered credential works on the same server.
    expect((await (await client()).allocate(fresh.username, fresh.credential)).ok).toBe(true);
  });
});

import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { ICE_PATH } from '../../src/host/calls';
import { iceConfigFromEnv, mintTurnCredential } from '../../src/host/calls/turn';
import { call, registerUser, startHost } from './support';

type Host = Awaited<ReturnType<typeof startHost>>;

const hexId = () => randomBytes(16).toString('hex');

function wsUrl(host: Host, id: string, token = 'abc123', key = 'peerjs'): string {
  return `${host.url.replace('http', 'ws')}/peerjs/peerjs?key=${key}&id=${id}&token=${token}&version=1.5.5`;
}

/** Opens a signalling socket; resolves with the first frame or the HTTP status it was refused with. */
function open(url: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; first?: { type: string }; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (d) => resolve({ ws, first: JSON.parse(String(d)) as { type: string } }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', () => resolve({ status: -1 }));
  });
}

function next(ws: WebSocket): Promise<{ type: string; src?: string; payload?: unknown }> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
}

describe('PeerJS signalling at /peerjs', () => {
  let host: Host;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    host = await startHost();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await host.close();
  });

  test('a random 128-bit id registers and messages relay between two peers', async () => {
    const a = hexId();
    const b = hexId();
    const A = await open(wsUrl(host, a));
    const B = await open(wsUrl(host, b));
    sockets.push(A.ws!, B.ws!);
    expect(A.first?.type).toBe('OPEN');
    expect(B.first?.type).toBe('OPEN');
    const got = next(B.ws!);
    A.ws!.send(JSON.stringify({ type: 'OFFER', dst: b, payload: { sdp: 'x' } }));
    const m = await got;
    expect(m.type).toBe('OFFER');
    expect(m.src).toBe(a); // src is stamped by the server, not taken from the sender
  });

  test.each([
    ['uppercase hex', 'A'.repeat(32)],
    ['too short', 'a'.repeat(31)],
    ['a uuid', '123e4567-e89b-12d3-a456-426614174000'],
    ['a username', 'alice']
  ])('ids that are not 32 lowercase hex are refused: %s', async (_name, id) => {
    expect((await open(wsUrl(host, id))).status).toBe(400);
  });

  test('a wrong key or a missing token is refused', async () => {
    expect((await open(wsUrl(host, hexId(), 'abc', 'other'))).status).toBe(400);
    expect((await open(wsUrl(host, hexId(), ''))).status).toBe(400);
  });

  test('browser pages from another origin cannot open signalling sockets; the app origin can', async () => {
    expect((await open(wsUrl(host, hexId()), { Origin: 'https://evil.example' })).status).toBe(403);
    const ok = await open(wsUrl(host, hexId()), { Origin: host.url });
    sockets.push(ok.ws!);
    expect(ok.first?.type).toBe('OPEN');
  });

  test('discovery is off and the server never hands out ids', async () => {
    expect((await call(host.url, '/peerjs/peerjs/peers')).status).toBe(404);
    expect((await call(host.url, '/peerjs/peerjs/id')).status).toBe(404);
    const cors = await fetch(host.url + '/peerjs', { headers: { Origin: 'https://evil.example' } });
    expect(cors.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('P28 a taken id cannot be claimed with another token while its owner is connected', async () => {
    const id = hexId();
    const owner = await open(wsUrl(host, id, 'owner1'));
    sockets.push(owner.ws!);
    const thief = await open(wsUrl(host, id, 'thief1'));
    expect(thief.first?.type).toBe('ID-TAKEN');
  });
});

describe('signalling rate limit', () => {
  test('connections per IP are rate-limited', async () => {
    const host = await startHost();
    try {
      const statuses: (number | undefined)[] = [];
      for (let i = 0; i < 65; i++) {
        const r = await open(wsUrl(host, 'bad'));
        statuses.push(r.status);
      }
      expect(statuses.slice(0, 60).every((s) => s === 400)).toBe(true);
      expect(statuses.slice(60).every((s) => s === 429)).toBe(true);
    } finally {
      await host.close();
    }
  });

  test('one IPv6 /64 is one address: varying the low bits buys no more connections', async () => {
    const host = await startHost({ trustedProxies: ['127.0.0.1'] });
    try {
      const statuses: (number | undefined)[] = [];
      for (let i = 0; i < 61; i++) statuses.push((await open(wsUrl(host, 'bad'), { 'x-forwarded-for': `2001:db8:7:7::${(i + 1).toString(16)}` })).status);
      expect(statuses.slice(0, 60).every((s) => s === 400)).toBe(true);
      expect(statuses[60]).toBe(429);
    } finally {
      await host.close();
    }
  });
});

describe('P29 short-lived TURN credentials', () => {
  test('P29 coturn REST scheme: username is expiry:random, credential is base64 HMAC-SHA1 of it', () => {
    const now = 1_800_000_000_000;
    const c = mintTurnCredential('s3cret', now, 600, new Uint8Array(12));
    expect(c.username).toBe(`${1_800_000_600}:AAAAAAAAAAAAAAAA`);
    expect(c.credential).toBe(createHmac('sha1', 's3cret').update(c.username).digest('base64'));
    expect(c.expiresAt).toBe(now + 600_000);
  });

  test('configuration from the environment is validated', () => {
    expect(() => iceConfigFromEnv({ ICE_SERVERS: '[{"urls":"http://x"}]' })).toThrow();
    expect(() => iceConfigFromEnv({ TURN_URLS: 'stun:x' })).toThrow();
    expect(() => iceConfigFromEnv({ TURN_TTL: '5' })).toThrow();
    expect(iceConfigFromEnv({ ICE_SERVERS: '[{"urls":"stun:stun.example:3478"}]' }).iceServers).toHaveLength(1);
  });

  test('P29 only authenticated accounts get ICE servers; each gets fresh credentials that expire in about 10 minutes', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { TURN_SECRET: 'shared-secret', TURN_URLS: 'turn:turn.example:3478?transport=udp', ICE_SERVERS: '[{"urls":"stun:turn.example:3478"}]' });
    const host = await startHost();
    try {
      expect((await call(host.url, ICE_PATH)).status).toBe(401);
      const alice = await registerUser(host.url, 'alice');
      const r1 = await call(host.url, ICE_PATH, { token: alice.token });
      const r2 = await call(host.url, ICE_PATH, { token: alice.token });
      expect(r1.status).toBe(200);
      const servers = r1.json.iceServers as { urls: string | string[]; username?: string; credential?: string }[];
      expect(servers[0]).toEqual({ urls: 'stun:turn.example:3478' });
      const turn = servers[1]!;
      expect(turn.urls).toEqual(['turn:turn.example:3478?transport=udp']);
      const [expiry] = turn.username!.split(':');
      const ttl = Number(expiry) - Date.now() / 1000;
      expect(ttl).toBeGreaterThan(500);
      expect(ttl).toBeLessThanOrEqual(601);
      expect(turn.credential).toBe(createHmac('sha1', 'shared-secret').update(turn.username!).digest('base64'));
      expect(turn.username).not.toContain('alice');
      expect(r2.json.iceServers[1].username).not.toBe(turn.username);
    } finally {
      process.env = saved;
      await host.close();
    }
  });
});

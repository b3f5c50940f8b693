/**
 * A push service on loopback for the Web Push tests (RFC 8030 §5, RFC 8292): a real HTTP server
 * on 127.0.0.1 that records each push it receives (path, headers, body length) and answers with
 * the status the test sets per path (201 by default, 410 for a subscription that is gone). It
 * also checks a push's VAPID JWT the way a push service does (`verifyVapid`).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createPublicKey, verify } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface ReceivedPush {
  path: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
}

export interface PushService {
  origin: string;
  endpoint(path: string): string;
  received: ReceivedPush[];
  /** The status answered for pushes to `path` (default 201). */
  answer(path: string, status: number): void;
  close(): Promise<void>;
}

export async function startPushService(): Promise<PushService> {
  const received: ReceivedPush[] = [];
  const statuses = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, bodyBytes });
      res.writeHead(statuses.get(path) ?? 201).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    endpoint: (path) => origin + path,
    received,
    answer: (path, status) => void statuses.set(path, status),
    close: () => new Promise<void>((r) => server.close(() => r()))
  };
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/**
 * Checks `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292 §3): `k` is `publicKey`, the JWT's
 * header is ES256 and its signature verifies under that P-256 key; answers the claims.
 */
export function verifyVapid(authorization: string | undefined, publicKey: string): VapidClaims {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error('no vapid Authorization header');
  if (m[2] !== publicKey) throw new Error('k is not the host\'s VAPID key');
  const [head, claims, sig] = m[1]!.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string };
  if (header.alg !== 'ES256') throw new Error(`alg ${header.alg}`);
  const point = Buffer.from(publicKey, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Error('public key is not an uncompressed P-256 point');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${head}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
  if (!ok) throw new Error('JWT signature does not verify');
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as VapidClaims;
}

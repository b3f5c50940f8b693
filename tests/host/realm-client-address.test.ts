/**
 * SECURITY.md P40 lockouts, for the PIN-recovery realm: its per-address limit counts the client a
 * configured trusted reverse proxy names (X-Forwarded-For read from the right, client-address.ts),
 * both in the realm the host mounts at /realm/ (the host's TRUSTED_PROXY) and in a standalone
 * realm process (its own TRUSTED_PROXY). So behind a proxy one flooder cannot lock every user out
 * of recovery, and what a client writes further left in the header picks no bucket.
 */
import { afterEach, expect, test } from 'vitest';
import { realmIdFromName, realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { DEFAULT_PER_IP } from '../../src/host/realm/create-realm';
import { encodeRealmRequest } from '../../src/lib/wire/realm-api';
import { spawnRealmProcess, tempDir } from '../pin/realm-harness';
import { startHost } from './support';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A status request for user `n` (a fresh user each time, so only the per-address limit applies). */
function status(realmName: string, n: number): Uint8Array {
  return encodeRealmRequest({ op: 'status', realmId: realmIdFromName(realmName), userId: realmUserId(`user${n}`) });
}

async function post(url: string, body: Uint8Array, forwardedFor: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers: { 'x-forwarded-for': forwardedFor, 'content-type': 'application/octet-stream' } });
  await res.arrayBuffer();
  return res.status;
}

/**
 * One client (203.0.113.7, each request with a different address of its own writing on the left)
 * spends the whole per-address budget; it is then refused, and another client behind the same
 * proxy is still answered.
 */
async function expectPerClient(url: string, realmName: string): Promise<void> {
  let n = 0;
  for (let i = 0; i < DEFAULT_PER_IP.max; i++) {
    expect(await post(url, status(realmName, n++), `198.51.100.${i % 250}, 203.0.113.7`)).toBe(200);
  }
  expect(await post(url, status(realmName, n++), `192.0.2.99, 203.0.113.7`)).toBe(429);
  expect(await post(url, status(realmName, n), '203.0.113.8')).toBe(200);
}

test('P40 the realm the host mounts counts the client its trusted proxy names, read from the right', async () => {
  const host = await startHost({ trustedProxies: ['127.0.0.1', '::1'] });
  cleanups.push(() => host.close());
  await expectPerClient(new URL('/realm/', host.url).toString(), 'parley');
});

test('P40 a standalone realm process honours TRUSTED_PROXY the same way', async () => {
  const realm = await spawnRealmProcess('realm-proxy', tempDir('realm-proxy-'), { TRUSTED_PROXY: '127.0.0.1,::1' });
  cleanups.push(() => realm.stop());
  await expectPerClient(realm.url, 'realm-proxy');
});

/**
 * SECURITY.md P38, the built-in realm as the host mounts it at /realm/ (src/host/server.ts): it
 * answers browsers of exactly the APP_ORIGIN origins the rest of the host trusts, so a page on
 * another origin cannot spend a user's guesses or probe their status from a visitor's browser.
 */
import { afterEach, expect, test } from 'vitest';
import { realmIdFromName, realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { decodeRealmResponse, encodeRealmRequest } from '../../src/lib/wire/realm-api';
import { startHost } from './support';

type Host = Awaited<ReturnType<typeof startHost>>;
let host: Host | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

async function post(url: string, body: Uint8Array, origin: string) {
  const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers: { origin, 'content-type': 'application/octet-stream' } });
  return { status: res.status, allow: res.headers.get('access-control-allow-origin'), body: new Uint8Array(await res.arrayBuffer()) };
}

test('P38 the realm the host mounts answers exactly the APP_ORIGIN origins: not its own Host, not another site', async () => {
  const saved = process.env.APP_ORIGIN;
  process.env.APP_ORIGIN = 'https://app.example, https://other-app.example';
  try {
    host = await startHost();
  } finally {
    if (saved === undefined) delete process.env.APP_ORIGIN;
    else process.env.APP_ORIGIN = saved;
  }
  const url = new URL('/realm/', host.url).toString();
  const body = encodeRealmRequest({ op: 'status', realmId: realmIdFromName('parley'), userId: realmUserId('alice') });

  const allowed = await post(url, body, 'https://app.example');
  expect(allowed.status).toBe(200);
  expect(allowed.allow).toBe('https://app.example');
  expect(decodeRealmResponse(allowed.body).op).toBe('status');
  expect((await post(url, body, 'https://other-app.example')).status).toBe(200);

  for (const origin of ['https://evil.example', new URL(host.url).origin, 'null']) {
    const refused = await post(url, body, origin);
    expect(refused.status, origin).toBe(403);
    expect(refused.allow, origin).toBeNull();
  }
  const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
});

/**
 * Web Push with the tab closed (README "Web Push with the tab closed"; P48 in this branch's
 * numbering) on a real loopback host with a real SQLite file, pushing to a real HTTP push service
 * on loopback (push-service.ts): the push is empty and VAPID-signed (ES256 under the host's
 * published key, aud = the endpoint's origin, exp within 24 h), goes only to accounts with no live
 * socket, is coalesced per account, a 410 removes the subscription, registering needs a signed-in
 * account and a valid endpoint, and no log line names an endpoint or a username.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { PUSH_API, MAX_PUSH_ENDPOINT_CHARS } from '../../src/lib/wire/push-api';
import { bytesOf, registerUser, startHost, WsClient, type TestUser } from './support';
import { startPushService, verifyVapid, type PushService } from './push-service';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const authz = (u: TestUser) => ({ authorization: `Bearer ${toBase64Url(u.token)}` });

function subscribe(url: string, u: TestUser | undefined, endpoint: unknown, method: 'PUT' | 'DELETE' = 'PUT'): Promise<Response> {
  return fetch(url + PUSH_API.subscription, { method, headers: { ...(u ? authz(u) : {}), 'content-type': 'application/json' }, body: JSON.stringify({ endpoint }) });
}

async function until(what: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
/** No log line names an account, the push service or any endpoint path. */
function expectCleanLogs(lines: string[], service: PushService): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) {
    expect(l).not.toMatch(/\bben\b|\bann\b|\/push\/(ben|gone|live)|127\.0\.0\.1/);
    expect(l).not.toContain(service.origin);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(minIntervalMs = 1500) {
  const lines: string[] = [];
  const service: PushService = await startPushService();
  cleanup.push(() => service.close());
  const host = await startHost({ push: { allowLoopbackHttp: true, minIntervalMs }, log: (l) => lines.push(l) });
  cleanup.push(() => host.close());
  const ann = await registerUser(host.url, 'ann');
  const ben = await registerUser(host.url, 'ben');
  const annWs = await WsClient.open(host.url, ann.token);
  cleanup.push(() => annWs.close());
  const key = ((await (await fetch(host.url + PUSH_API.key)).json()) as { publicKey: string }).publicKey;
  return { host, service, ann, ben, annWs, key, lines };
}

describe('P48 Web Push', () => {
  test('P48 an envelope for an account with no live socket sends one empty push, VAPID-signed under the published key', async () => {
    const { host, service, ann, ben, annWs, key, lines } = await setup();
    expect((await subscribe(host.url, ben, service.endpoint('/push/ben-1'))).status).toBe(204);
    const sentAt = Math.floor(Date.now() / 1000);
    await annWs.send('ben', bytesOf('ciphertext for ben'));
    await until(() => service.received.length === 1);
    const push = service.received[0]!;
    expect(push.path).toBe('/push/ben-1');
    expect(push.bodyBytes).toBe(0);
    expect(push.headers['content-encoding']).toBeUndefined();
    expect(push.headers['ttl']).toBe(String(24 * 3600));
    expect(push.headers['urgency']).toBe('normal');
    const claims = verifyVapid(push.headers.authorization, key);
    expect(claims.aud).toBe(service.origin);
    expect(claims.exp).toBeGreaterThan(sentAt);
    expect(claims.exp).toBeLessThanOrEqual(sentAt + 24 * 3600 + 5);
    expect(claims.sub).toMatch(/^(mailto|https):/);
    // A JWT that was tampered with does not verify.
    const [h, c, s] = push.headers.authorization!.slice('vapid t='.length).split(', k=')[0]!.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, aud: 'https://elsewhere.example' })).toString('base64url');
    expect(() => verifyVapid(`vapid t=${h}.${forged}.${s}, k=${key}`, key)).toThrow(/signature/);
    expect(c).not.toBe(forged);
    // The key stays the same across a restart (same data dir).
    await host.close();
    const again = await startHost({ dataDir: host.dataDir, push: { allowLoopbackHttp: true } });
    cleanup.push(() => again.close());
    expect(((await (await fetch(again.url + PUSH_API.key)).json()) as { publicKey: string }).publicKey).toBe(key);
    expectCleanLogs(lines, service);
    void ann;
  });

  test('P48 no push while the account has a live socket; one again once it is gone', async () => {
    const { host, service, ben, annWs } = await setup(300);
    await subscribe(host.url, ben, service.endpoint('/push/ben'));
    const benWs = await WsClient.open(host.url, ben.token);
    await annWs.send('ben', bytesOf('one'));
    await benWs.waitFor((f) => f.type === 'envelope');
    await sleep(600);
    expect(service.received).toHaveLength(0);
    await benWs.close();
    await until(() => !(host.sockets().length > 1));
    await sleep(100);
    await annWs.send('ben', bytesOf('two'));
    await until(() => service.received.length === 1);
  });

  test('P48 pushes are coalesced: a burst gives one push now and at most one at the end of the interval', async () => {
    const { host, service, ben, annWs } = await setup(2000);
    await subscribe(host.url, ben, service.endpoint('/push/ben'));
    await Promise.all(Array.from({ length: 6 }, (_, i) => annWs.send('ben', bytesOf(`m${i}`))));
    await until(() => service.received.length === 1);
    await until(() => service.received.length === 2);
    // Nothing more came: the window after the trailing push ends with no push.
    await sleep(2600);
    expect(service.received).toHaveLength(2);
  });

  test('P48 a subscription the push service answers 410 for is removed; the others still get pushes', async () => {
    const { host, service, ben, annWs, lines } = await setup(300);
    service.answer('/push/gone', 410);
    await subscribe(host.url, ben, service.endpoint('/push/gone'));
    await subscribe(host.url, ben, service.endpoint('/push/live'));
    await annWs.send('ben', bytesOf('one'));
    await until(() => service.received.length === 2);
    await until(() => lines.some((l) => l.includes('subscription removed')));
    // Gone from the store: deleting it now finds nothing, and the next push reaches only the live one.
    expect((await subscribe(host.url, ben, service.endpoint('/push/gone'), 'DELETE')).status).toBe(404);
    await sleep(400);
    await annWs.send('ben', bytesOf('two'));
    await until(() => service.received.length === 3);
    expect(service.received[2]!.path).toBe('/push/live');
    expectCleanLogs(lines, service);
  });

  test('P48 registering needs a signed-in account; deleting takes only the account\'s own endpoint', async () => {
    const { host, service, ann, ben, annWs } = await setup(300);
    const ep = service.endpoint('/push/ben');
    expect((await subscribe(host.url, undefined, ep)).status).toBe(401);
    expect((await subscribe(host.url, { ...ben, token: new Uint8Array(32) }, ep)).status).toBe(401);
    expect((await subscribe(host.url, ben, ep)).status).toBe(204);
    expect((await subscribe(host.url, ann, ep, 'DELETE')).status).toBe(404);
    expect((await subscribe(host.url, ben, ep, 'DELETE')).status).toBe(204);
    await annWs.send('ben', bytesOf('after delete'));
    await sleep(600);
    expect(service.received).toHaveLength(0);
  });

  test('P48 an endpoint that is not https, too long or not a host name is refused, and loopback http only with the test option', async () => {
    const host = await startHost();
    cleanup.push(() => host.close());
    const ben = await registerUser(host.url, 'ben');
    for (const bad of [
      'http://127.0.0.1:9/push',
      'http://push.example.org/x',
      'https://127.0.0.1/x',
      'https://[::1]/x',
      'https://localhost/x',
      'https://user:pw@push.example.org/x',
      'https://push.example.org:8443/x',
      'ftp://push.example.org/x',
      `https://push.example.org/${'a'.repeat(MAX_PUSH_ENDPOINT_CHARS)}`,
      42,
      'not a url'
    ]) {
      const res = await subscribe(host.url, ben, bad);
      expect(res.status, String(bad).slice(0, 60)).toBe(400);
    }
    expect((await subscribe(host.url, ben, 'https://fcm.googleapis.com/fcm/send/abc')).status).toBe(204);
  });
});

/**
 * Lockouts (SECURITY.md P40, P9): limits that slow an abuser must not lock anyone else out.
 * Draining a target's one-time prekeys turns into last-resort bundles, not a 429 for everyone;
 * one sender gets only a share of a mailbox; registrations cost a per-address budget; the
 * client address comes from X-Forwarded-For only through a configured trusted proxy; a prekey
 * upload can never leave an account without its last-resort KEM key.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { decodeBundle, verifyBundle } from '../../src/lib/crypto/bundle';
import { API, decodeBundleResponse, encodePreKeyUpload, encodeRegisterRequest } from '../../src/lib/wire/host-api';
import { WsClient, call, challenge, registerUser, registration, startHost } from './support';
import { initSodium } from '../../src/lib/crypto/sodium';
import { DISCOVERY_PATH, lookupHashText } from '../../src/lib/wire/discovery-api';
import { PROFILE_PATH, profileAddressText } from '../../src/lib/wire/profile-api';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await host?.close();
  host = undefined;
});

async function bundle(url: string, token: Uint8Array, name: string) {
  const r = await call(url, API.bundles + name, { token });
  return { status: r.status, r, bundle: r.status === 200 ? decodeBundle(decodeBundleResponse(r.json)) : undefined };
}

/** GET `path` from the given local address (127.0.0.x: the whole /8 is loopback on Linux). */
function getFrom(url: string, path: string, localAddress: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { localAddress, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('P9 P40 bundles', () => {
  test('P9 P40 draining a target past its one-time budget serves last-resort bundles to everyone, never a 429', async () => {
    host = await startHost({ limits: { oneTimePerTarget: { max: 3, windowMs: 3600_000 }, bundlePerPair: { max: 2, windowMs: 60_000 } } });
    const bob = await registerUser(host.url, 'bob', { oneTime: 10, kem: 10 });
    const drainers = await Promise.all(['m01', 'm02', 'm03', 'm04'].map((n) => registerUser(host!.url, n, { oneTime: 0, kem: 0 })));
    const got = [];
    for (const m of drainers) for (let i = 0; i < 2; i++) got.push(await bundle(host.url, m.token, 'bob'));
    expect(got.map((g) => g.status)).toEqual(Array(8).fill(200));
    // Three bundles carried one-time keys; the rest only the signed and last-resort prekeys.
    expect(got.filter((g) => g.bundle!.oneTimePreKey).length).toBe(3);
    expect(got.filter((g) => !g.bundle!.kemPreKey.lastResort).length).toBe(3);
    // Alice, who did nothing wrong, still gets a bundle that verifies.
    const alice = await registerUser(host.url, 'alice');
    const hers = await bundle(host.url, alice.token, 'bob');
    expect(hers.status).toBe(200);
    verifyBundle(hers.bundle!, 'bob');
    expect(hers.bundle!.kemPreKey).toMatchObject({ id: 1, lastResort: true });
    expect(hers.bundle!.oneTimePreKey).toBeUndefined();
    // Bob lost only the budget's worth of one-time keys.
    expect((await call(host.url, API.prekeys, { token: bob.token })).json).toEqual({ oneTime: 7, kem: 7 });
  });

  test('P40 a last-resort KEM prekey whose id is taken is refused and changes nothing; a rotation swaps it whole', async () => {
    host = await startHost();
    const bob = await registerUser(host.url, 'bob', { oneTime: 0, kem: 2 }); // KEM ids 2, 3 one-time; 1 last resort
    const [a1, a2, a3] = await Promise.all(['a01', 'a02', 'a03'].map((n) => registerUser(host!.url, n, { oneTime: 0, kem: 0 })));
    const clash = {
      signedPreKey: signedPreKeyPublic(generateSignedPreKey(bob.identity, 2, systemDeps)),
      oneTimePreKeys: [],
      kemPreKeys: [kemPreKeyPublic(generateKemPreKey(bob.identity, 2, true, systemDeps))]
    };
    const refused = await call(host.url, API.prekeys, { token: bob.token, json: encodePreKeyUpload(clash) });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/last-resort KEM prekey id is already in use/);
    // Nothing changed: the one-time KEM keys go, then the old last-resort key (never a 404).
    const served = [await bundle(host.url, a1!.token, 'bob'), await bundle(host.url, a2!.token, 'bob'), await bundle(host.url, a3!.token, 'bob')];
    expect(served.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(served.map((s) => [s.bundle!.kemPreKey.id, s.bundle!.kemPreKey.lastResort, s.bundle!.signedPreKey.id])).toEqual([
      [2, false, 1],
      [3, false, 1],
      [1, true, 1]
    ]);
    // A proper rotation replaces signed and last-resort prekeys together.
    const rotation = { ...clash, kemPreKeys: [kemPreKeyPublic(generateKemPreKey(bob.identity, 9, true, systemDeps))] };
    expect((await call(host.url, API.prekeys, { token: bob.token, json: encodePreKeyUpload(rotation) })).status).toBe(200);
    const after = await bundle(host.url, a1!.token, 'bob');
    verifyBundle(after.bundle!, 'bob');
    expect([after.bundle!.kemPreKey.id, after.bundle!.kemPreKey.lastResort, after.bundle!.signedPreKey.id]).toEqual([9, true, 2]);
  });
});

describe('P40 mailbox share', () => {
  test('P40 one sender gets only its share of a mailbox: past it 507, while others still get through; acks and restarts keep count', async () => {
    const limits = { mailboxMaxCount: 8, mailboxMaxBytes: 4000, mailboxSenderShare: 0.25 }; // share: 2 envelopes, 1000 bytes
    host = await startHost({ limits });
    const mallory = await registerUser(host.url, 'mallory');
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    const send = (from: { token: Uint8Array }, size: number) => call(host!.url, API.messages + 'bob', { token: from.token, body: new Uint8Array(size) });
    expect((await send(mallory, 10)).status).toBe(201);
    expect((await send(mallory, 10)).status).toBe(201);
    const third = await send(mallory, 10);
    expect([third.status, third.json.error.code]).toEqual([507, 'QuotaExceeded']);
    expect(third.json.error.message).toMatch(/share: 2/);
    expect((await send(alice, 900)).status).toBe(201);
    const overBytes = await send(alice, 200);
    expect(overBytes.status).toBe(507);
    expect(overBytes.json.error.message).toMatch(/1000 bytes/);

    // After a restart the share is counted from storage.
    const dataDir = host.dataDir;
    await host.close();
    host = await startHost({ limits, dataDir });
    expect((await send(mallory, 10)).status).toBe(507);
    // Bob acks mallory's envelopes: mallory may send again.
    const bobWs = await WsClient.open(host.url, bob.token);
    clients.push(bobWs);
    await bobWs.until(3);
    const fromMallory = bobWs.envelopes().filter((e) => e.sender === 'mallory').map((e) => e.serverId);
    expect((await call(host.url, API.acks, { token: bob.token, json: { ids: fromMallory } })).json).toEqual({ acked: 2 });
    expect((await send(mallory, 10)).status).toBe(201);
    expect((await send(alice, 200)).status).toBe(507); // alice's bytes still count
  });
});

describe('P40 client addresses', () => {
  test('P40 registrations are limited per client address with 429 and Retry-After', async () => {
    let now = 1_800_000_000_000;
    host = await startHost({ clock: () => now, limits: { registerPerIp: { max: 3, windowMs: 3600_000 } } });
    for (const n of ['u01', 'u02', 'u03']) await registerUser(host.url, n);
    const id = generateIdentity(systemDeps);
    const r = await call(host.url, API.accounts, { json: encodeRegisterRequest(registration('u04', id, await challenge(host.url))) });
    expect([r.status, r.json.error.code]).toEqual([429, 'RateLimited']);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call(host.url, API.usernames + 'u04')).json.available).toBe(true);
    now += 3601_000;
    await registerUser(host.url, 'u04');
  });

  test('P40 P49 anonymous lookups and profile reads count one IPv6 /64 as one address', async () => {
    await initSodium();
    const limits = { discoveryPerIp: { max: 2, windowMs: 60_000 }, discoveryWorkBits: 0, profileReadPerIp: { max: 2, windowMs: 60_000 } };
    host = await startHost({ limits, trustedProxies: ['127.0.0.2'] });
    const from = (ip: string, path: string) => getFrom(host!.url, path, '127.0.0.2', { 'x-forwarded-for': ip });
    const lookupPath = DISCOVERY_PATH + lookupHashText(new Uint8Array(32).fill(1));
    expect([await from('2001:db8:5:6::1', lookupPath), await from('2001:db8:5:6::2', lookupPath), await from('2001:db8:5:6:ffff::3', lookupPath)]).toEqual([200, 200, 429]);
    expect(await from('2001:db8:5:7::1', lookupPath)).toBe(200);
    const profilePath = PROFILE_PATH + profileAddressText(new Uint8Array(32).fill(2));
    expect([await from('2001:db8:8:9::1', profilePath), await from('2001:db8:8:9::2', profilePath), await from('2001:db8:8:9::3', profilePath)]).toEqual([404, 404, 429]);
  });

  test('P40 P49 lookups are also counted per IPv6 /48: hopping /64s inside one site buys no more than the site budget', async () => {
    await initSodium();
    const limits = { discoveryPerIp: { max: 2, windowMs: 60_000 }, discoveryPerSite: { max: 3, windowMs: 60_000 }, discoveryWorkBits: 0 };
    host = await startHost({ limits, trustedProxies: ['127.0.0.2'] });
    const from = (ip: string) => getFrom(host!.url, DISCOVERY_PATH + lookupHashText(new Uint8Array(32).fill(3)), '127.0.0.2', { 'x-forwarded-for': ip });
    // Two /64s of 2001:db8:aa::/48 (written two ways): the site's third lookup is its last.
    expect([await from('2001:db8:aa:1::1'), await from('2001:db8:aa:1::2'), await from('2001:0db8:00aa:0002::9')]).toEqual([200, 200, 200]);
    expect(await from('2001:db8:aa:3::1')).toBe(429);
    expect(await from('2001:db8:aa:ffff:1:2:3:4')).toBe(429);
    // Another /48 has its own budget; IPv4 addresses are counted one by one only.
    expect(await from('2001:db8:ab:1::1')).toBe(200);
    expect([await from('198.51.100.7'), await from('198.51.100.8'), await from('198.51.100.9'), await from('198.51.100.10')]).toEqual([200, 200, 200, 200]);
  });

  test('P40 X-Forwarded-For is honoured only from a configured trusted proxy, read from the right', async () => {
    const limits = { perIp: { max: 2, windowMs: 60_000 } };
    host = await startHost({ limits, trustedProxies: ['127.0.0.2', '10.0.0.0/8'] });
    const path = API.challenge;
    // A direct client cannot pick its bucket with the header.
    expect(await getFrom(host.url, path, '127.0.0.1', { 'x-forwarded-for': '198.51.100.1' })).toBe(200);
    expect(await getFrom(host.url, path, '127.0.0.1', { 'x-forwarded-for': '198.51.100.2' })).toBe(200);
    expect(await getFrom(host.url, path, '127.0.0.1', { 'x-forwarded-for': '198.51.100.3' })).toBe(429);
    // Through the trusted proxy each client has its own bucket; what the client wrote further
    // left in the header is ignored.
    const viaProxy = (xff: string) => getFrom(host!.url, path, '127.0.0.2', { 'x-forwarded-for': xff });
    expect(await viaProxy('203.0.113.9')).toBe(200);
    expect(await viaProxy('1.2.3.4, 203.0.113.9')).toBe(200);
    expect(await viaProxy('5.6.7.8, 203.0.113.9')).toBe(429);
    expect(await viaProxy('203.0.113.10')).toBe(200);
    // A chain of trusted proxies is walked back to the client; one IPv6 /64 is one bucket.
    expect(await viaProxy('2001:db8:1:2::1, 10.1.1.1')).toBe(200);
    expect(await viaProxy('2001:db8:1:2::ffff')).toBe(200);
    expect(await viaProxy('[2001:db8:1:2:aaaa::1]:4711')).toBe(429);
    expect(await viaProxy('2001:db8:1:3::1')).toBe(200);
    // The proxy's own requests, without the header, are the proxy's.
    expect(await getFrom(host.url, path, '127.0.0.2')).toBe(200);
    await host.close();

    // Without TRUSTED_PROXY the header is ignored for everyone.
    host = await startHost({ limits });
    expect(await getFrom(host.url, path, '127.0.0.2', { 'x-forwarded-for': '203.0.113.1' })).toBe(200);
    expect(await getFrom(host.url, path, '127.0.0.2', { 'x-forwarded-for': '203.0.113.2' })).toBe(200);
    expect(await getFrom(host.url, path, '127.0.0.2', { 'x-forwarded-for': '203.0.113.3' })).toBe(429);
  });
});

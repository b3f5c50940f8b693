/**
 * Directory over real HTTP on a real SQLite file: claiming names, proof of possession, bundles
 * with one-time prekeys served once (P9), rate limits, replenish and rotation.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, kemPreKeyPublic, oneTimePreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { decodeBundle, verifyBundle } from '../../src/lib/crypto/bundle';
import { API, decodeBundleResponse, encodePreKeyUpload, encodeRegisterRequest } from '../../src/lib/wire/host-api';
import { call, challenge, registerUser, registration, startHost } from './support';

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

async function fetchBundle(url: string, token: Uint8Array, name: string) {
  const r = await call(url, API.bundles + name, { token });
  return { status: r.status, r, bundle: r.status === 200 ? decodeBundle(decodeBundleResponse(r.json)) : undefined };
}

describe('usernames', () => {
  test('availability canonicalises with NFKC and lowercase, and refuses bad names with a reason', async () => {
    host = await startHost();
    expect((await call(host.url, API.usernames + encodeURIComponent('ＡＬＩＣＥ'))).json).toEqual({ username: 'alice', available: true });
    expect((await call(host.url, API.usernames + 'Bob.Smith_1')).json).toEqual({ username: 'bob.smith_1', available: true });
    for (const bad of ['ab', 'x'.repeat(33), 'al ice', 'al-ice', encodeURIComponent('alicé'), encodeURIComponent('a\u0000b')]) {
      const r = await call(host.url, API.usernames + bad);
      expect(r.status, bad).toBe(400);
      expect(r.json.error.code).toBe('BadRequest');
    }
  });

  test('a taken name is refused with 409 UsernameTaken and the first owner keeps it', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    expect((await call(host.url, API.usernames + 'ALICE')).json.available).toBe(false);
    const mallory = generateIdentity(systemDeps);
    const r = await call(host.url, API.accounts, { json: encodeRegisterRequest(registration('alice', mallory, await challenge(host.url))) });
    expect(r.status).toBe(409);
    expect(r.json.error).toEqual({ code: 'UsernameTaken', message: expect.stringContaining('alice') });
    const b = await fetchBundle(host.url, alice.token, 'alice');
    expect(b.bundle!.identity.signingKey).toEqual(alice.identity.signing.publicKey);
  });

  test('registration needs a signature by the identity key over the challenge; refusal stores nothing', async () => {
    host = await startHost();
    const id = generateIdentity(systemDeps);
    const other = generateIdentity(systemDeps);
    const req = registration('carol', id, await challenge(host.url));
    const forged = { ...req, signature: registration('carol', other, req.challenge).signature };
    const r = await call(host.url, API.accounts, { json: encodeRegisterRequest(forged) });
    expect(r.status).toBe(401);
    expect((await call(host.url, API.usernames + 'carol')).json.available).toBe(true);
  });

  test('P1 a prekey signed by another key, or no last-resort KEM key, is refused and stores nothing', async () => {
    host = await startHost();
    const id = generateIdentity(systemDeps);
    const other = generateIdentity(systemDeps);
    const badSpk = { ...registration('dave', id, await challenge(host.url)), signedPreKey: signedPreKeyPublic(generateSignedPreKey(other, 1, systemDeps)) };
    expect((await call(host.url, API.accounts, { json: encodeRegisterRequest(badSpk) })).status).toBe(400);
    const good = registration('dave', id, await challenge(host.url));
    const noLastResort = { ...good, kemPreKeys: good.kemPreKeys.filter((k) => !k.lastResort) };
    const r = await call(host.url, API.accounts, { json: encodeRegisterRequest(noLastResort) });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/last-resort/);
    expect((await call(host.url, API.usernames + 'dave')).json.available).toBe(true);
  });

  test('strict decoding: unknown fields, wrong lengths and non-JSON bodies get 400 with a reason', async () => {
    host = await startHost();
    const json = encodeRegisterRequest(registration('erin', generateIdentity(systemDeps), await challenge(host.url)));
    for (const body of [{ ...json, admin: true }, { ...json, challenge: 'AAAA' }, { ...json, username: 'Erin' }, { ...json, oneTimePreKeys: 'x' }]) {
      const r = await call(host.url, API.accounts, { json: body });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('BadRequest');
      expect(r.json.error.message.length).toBeGreaterThan(5);
    }
    expect((await call(host.url, API.accounts, { rawJson: '{"username":' })).status).toBe(400);
    expect((await call(host.url, API.usernames + 'erin')).json.available).toBe(true);
  });
});

describe('bundles', () => {
  test('a fetched bundle verifies, and needs a bearer token', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const bob = await registerUser(host.url, 'bob');
    expect((await call(host.url, API.bundles + 'bob')).status).toBe(401);
    const b = await fetchBundle(host.url, alice.token, 'bob');
    expect(b.status).toBe(200);
    expect(() => verifyBundle(b.bundle!, 'bob')).not.toThrow();
    expect(b.bundle!.identity.signingKey).toEqual(bob.identity.signing.publicKey);
    expect((await fetchBundle(host.url, alice.token, 'nobody')).r.json.error.code).toBe('NoSuchUser');
  });

  test('P9 each one-time prekey is served exactly once under concurrent fetches, then the last-resort KEM key', async () => {
    host = await startHost();
    await registerUser(host.url, 'bob', { oneTime: 5, kem: 3 });
    const askers = await Promise.all(['a01', 'a02', 'a03', 'a04', 'a05', 'a06', 'a07', 'a08', 'a09', 'a10'].map((n) => registerUser(host!.url, n, { oneTime: 0, kem: 0 })));
    const results = await Promise.all(askers.map((u) => fetchBundle(host!.url, u.token, 'bob')));
    const bundles = results.map((r) => r.bundle!);
    for (const b of bundles) verifyBundle(b, 'bob');
    const oneTimeIds = bundles.flatMap((b) => (b.oneTimePreKey ? [b.oneTimePreKey.id] : []));
    expect(oneTimeIds.sort()).toEqual([1, 2, 3, 4, 5]);
    const kemOneTime = bundles.filter((b) => !b.kemPreKey.lastResort).map((b) => b.kemPreKey.id);
    expect(kemOneTime.sort()).toEqual([2, 3, 4]);
    expect(bundles.filter((b) => b.kemPreKey.lastResort).every((b) => b.kemPreKey.id === 1)).toBe(true);
    const counts = await call(host.url, API.prekeys, { token: askers[0]!.token });
    expect(counts.json).toEqual({ oneTime: 0, kem: 0 });
  });

  test('P9 bundle fetches are rate-limited per requester and per requester-target pair with 429 and Retry-After', async () => {
    let now = 1_800_000_000_000;
    host = await startHost({ clock: () => now, limits: { bundlePerRequester: { max: 4, windowMs: 60_000 }, bundlePerPair: { max: 2, windowMs: 60_000 } } });
    const [a, b] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((n) => registerUser(host!.url, n)));
    for (let i = 0; i < 2; i++) expect((await fetchBundle(host.url, a!.token, 'carol')).status).toBe(200);
    const pair = await fetchBundle(host.url, a!.token, 'carol');
    expect(pair.status).toBe(429);
    expect(pair.r.json.error).toEqual({ code: 'RateLimited', message: expect.stringContaining('of this user by this account') });
    expect(Number(pair.r.headers.get('retry-after'))).toBeGreaterThan(0);
    // The pair limit is alice's alone: bob still reaches carol, and alice still reaches bob.
    expect((await fetchBundle(host.url, b!.token, 'carol')).status).toBe(200);
    expect((await fetchBundle(host.url, a!.token, 'bob')).status).toBe(200);
    // Her fifth fetch in the window passes her own limit.
    const requester = await fetchBundle(host.url, a!.token, 'dave');
    expect(requester.status).toBe(429);
    expect(requester.r.json.error.message).toContain('by this account');
    now += 61_000;
    expect((await fetchBundle(host.url, a!.token, 'carol')).status).toBe(200);
  });
});

describe('prekey maintenance', () => {
  test('replenish raises the counts; rotating the signed prekey changes what bundles carry', async () => {
    host = await startHost();
    const bob = await registerUser(host.url, 'bob', { oneTime: 1, kem: 1 });
    const alice = await registerUser(host.url, 'alice');
    expect((await call(host.url, API.prekeys, { token: bob.token })).json).toEqual({ oneTime: 1, kem: 1 });
    const upload = {
      signedPreKey: signedPreKeyPublic(generateSignedPreKey(bob.identity, 2, systemDeps)),
      oneTimePreKeys: generateOneTimePreKeys(100, 4, systemDeps).map(oneTimePreKeyPublic),
      kemPreKeys: [kemPreKeyPublic(generateKemPreKey(bob.identity, 50, false, systemDeps))]
    };
    const r = await call(host.url, API.prekeys, { token: bob.token, json: encodePreKeyUpload(upload) });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ oneTime: 5, kem: 2 });
    const b = await fetchBundle(host.url, alice.token, 'bob');
    verifyBundle(b.bundle!, 'bob');
    expect(b.bundle!.signedPreKey.id).toBe(2);
  });

  test('P1 an upload signed by someone else is refused and changes nothing', async () => {
    host = await startHost();
    const bob = await registerUser(host.url, 'bob', { oneTime: 1, kem: 1 });
    const mallory = generateIdentity(systemDeps);
    const upload = { oneTimePreKeys: [], kemPreKeys: [kemPreKeyPublic(generateKemPreKey(mallory, 9, false, systemDeps))] };
    const r = await call(host.url, API.prekeys, { token: bob.token, json: encodePreKeyUpload(upload) });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('BadRequest');
    expect((await call(host.url, API.prekeys, { token: bob.token })).json).toEqual({ oneTime: 1, kem: 1 });
  });

  test('the per-account prekey pool is capped with 413 QuotaExceeded', async () => {
    host = await startHost({ limits: { maxOneTimePreKeys: 5 } });
    const bob = await registerUser(host.url, 'bob', { oneTime: 3, kem: 0 });
    const upload = { oneTimePreKeys: generateOneTimePreKeys(10, 3, systemDeps).map(oneTimePreKeyPublic), kemPreKeys: [] };
    const r = await call(host.url, API.prekeys, { token: bob.token, json: encodePreKeyUpload(upload) });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('QuotaExceeded');
    expect((await call(host.url, API.prekeys, { token: bob.token })).json.oneTime).toBe(3);
  });
});

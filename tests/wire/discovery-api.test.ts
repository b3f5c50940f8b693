/**
 * The anonymous lookup's wire (src/lib/wire/discovery-api.ts, README "Design: private discovery",
 * P49) and its client (workers/engine/host-transport.ts `lookup`): strict answers, and a host's
 * per-address refusal (P40) told apart from "not reachable" where the user waits on the answer.
 */
import { describe, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { asUsername } from '../../src/lib/codec/username';
import { decodeLookupAnswer, encodeLookupAnswer, encodeWorkChallenge, encodeWorkProof, parseWorkChallenge, parseWorkProof } from '../../src/lib/wire/discovery-api';
import { checkLookupWork } from '../../src/lib/crypto/lookup-work';
import { HostHttpTransport } from '../../workers/engine/host-transport';
import { initSodium } from '../../src/lib/crypto/sodium';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, kemPreKeyPublic, oneTimePreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { API } from '../../src/lib/wire/host-api';

const id = new Uint8Array(131).fill(9);

describe('lookup answers', () => {
  test('round-trip: absent, present with its identity, present without one yet', () => {
    for (const a of [{ exists: false } as const, { exists: true, identity: id } as const, { exists: true } as const]) {
      expect(decodeLookupAnswer(JSON.parse(JSON.stringify(encodeLookupAnswer(a))))).toEqual(a);
    }
  });

  test('anything else is refused: extra keys, an identity beside "false", wrong types, empty or oversized identities', () => {
    const bad: unknown[] = [
      null,
      [],
      {},
      { exists: 'yes' },
      { exists: true, identity: toBase64Url(id), username: 'bob' },
      { exists: false, identity: toBase64Url(id) },
      { exists: true, identity: 7 },
      { exists: true, identity: '' },
      { exists: true, identity: toBase64Url(new Uint8Array(600)) }
    ];
    for (const v of bad) expect(() => decodeLookupAnswer(v), JSON.stringify(v)).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
  });
});

describe('work challenges and proofs', () => {
  test('round-trip', () => {
    expect(parseWorkChallenge(encodeWorkChallenge({ bits: 20, slot: 29_000_000 }))).toEqual({ bits: 20, slot: 29_000_000 });
    const nonce = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    expect(parseWorkProof(encodeWorkProof({ slot: 29_000_000, nonce }))).toEqual({ slot: 29_000_000, nonce });
  });

  test('anything else is refused: signs, leading zeros, extra parts, more than 32 bits, a nonce not of 8 bytes', () => {
    for (const c of ['', '20', '20 ', ' 20 5', '20 5 1', '-1 5', '020 5', '20 05', '33 5', '20 1e3', '20 5.0']) {
      expect(() => parseWorkChallenge(c), c).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
    }
    for (const p of ['', '5', '5.', '.AQIDBAUGBwg', '5.AQIDBAUGBw', '5.AQIDBAUGBwgJ', '5.AQIDBAUGBwg.x', '-5.AQIDBAUGBwg', '05.AQIDBAUGBwg']) {
      expect(() => parseWorkProof(p), p).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
    }
  });
});

describe('the client', () => {
  const hash = new Uint8Array(32).fill(1);
  const answering = (status: number, body: unknown, seen: Request[] = []) =>
    new HostHttpTransport('http://host.invalid/', undefined, async (input, init) => {
      seen.push(new Request(input, init));
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    });

  test('P49 sends the hash with no credential, even when it holds a token for the account', async () => {
    const seen: Request[] = [];
    const t = answering(200, { exists: true, identity: toBase64Url(id) }, seen);
    // A token kept from an earlier authenticated call must not ride along.
    (t as unknown as { token: unknown }).token = { username: asUsername('alice'), value: { token: new Uint8Array(32), expiresAt: Date.now() + 3_600_000 } };
    expect(await t.lookup(hash)).toEqual({ exists: true, identity: id });
    expect(seen).toHaveLength(1);
    expect(new URL(seen[0]!.url).pathname).toBe('/api/v1/discovery/' + toBase64Url(hash));
    expect(seen[0]!.headers.get('authorization')).toBeNull();
  });

  test('P40 a per-address refusal is RateLimited and "try again shortly" (503) is HostBusy, neither "unreachable"; a server error or no answer stays Unavailable', async () => {
    await expect(answering(429, { error: 'RateLimited', message: 'too many lookups' }).lookup(hash)).rejects.toMatchObject({ code: 'RateLimited' });
    // The host's answer while its lookup index is being filled after an upgrade (discovery.ts), or while draining.
    await expect(answering(503, { error: { code: 'Unavailable', message: 'the lookup index is being rebuilt; try again shortly' } }).lookup(hash)).rejects.toMatchObject({ code: 'HostBusy' });
    await expect(answering(500, { error: { code: 'Internal', message: 'boom' } }).lookup(hash)).rejects.toMatchObject({ code: 'Unavailable' });
    const unreachable = new HostHttpTransport('http://host.invalid/', undefined, async () => {
      throw new TypeError('fetch failed');
    });
    await expect(unreachable.lookup(hash)).rejects.toMatchObject({ code: 'Unavailable' });
  });

  test('P40 a 429 with a work challenge is retried once with a proof for this hash and that minute; a second 429 is RateLimited', async () => {
    const seen: Request[] = [];
    let calls = 0;
    const t = new HostHttpTransport('http://host.invalid/', undefined, async (input, init) => {
      seen.push(new Request(input, init));
      calls++;
      if (calls === 1) return new Response(JSON.stringify({ error: { code: 'RateLimited', message: 'x' } }), { status: 429, headers: { 'X-Parley-Work-Challenge': '10 29000000' } });
      return new Response(JSON.stringify({ exists: false }), { status: 200 });
    });
    expect(await t.lookup(hash)).toEqual({ exists: false });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.headers.get('x-parley-work')).toBeNull();
    const proof = parseWorkProof(seen[1]!.headers.get('x-parley-work')!);
    expect(proof.slot).toBe(29_000_000);
    expect(checkLookupWork(hash, proof.slot, proof.nonce, 10)).toBe(true);
    expect(seen[1]!.headers.get('authorization')).toBeNull();

    const refusing = answering(429, { error: { code: 'RateLimited', message: 'x' } });
    await expect(refusing.lookup(hash)).rejects.toMatchObject({ code: 'RateLimited' });
  });

  test('P40 a host that asks for more work than a client spends (over 22 bits) gets no work and a RateLimited, at once', async () => {
    const seen: Request[] = [];
    const t = new HostHttpTransport('http://host.invalid/', undefined, async (input, init) => {
      seen.push(new Request(input, init));
      return new Response(JSON.stringify({ error: { code: 'RateLimited', message: 'x' } }), { status: 429, headers: { 'X-Parley-Work-Challenge': '30 29000000' } });
    });
    await expect(t.lookup(hash)).rejects.toMatchObject({ code: 'RateLimited' });
    expect(seen).toHaveLength(1);
  });

  test('a sign-up the host cannot take now (503: its hashing thread is full) is HostBusy, which the welcome screen explains', async () => {
    await initSodium();
    const identity = generateIdentity(systemDeps);
    const t = new HostHttpTransport('http://host.invalid/', undefined, async (input) => {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      if (path === API.challenge) return new Response(JSON.stringify({ challenge: toBase64Url(new Uint8Array(32).fill(1)), expiresAt: Date.now() + 60_000 }), { status: 200 });
      return new Response(JSON.stringify({ error: { code: 'Unavailable', message: 'the lookup hasher is full' } }), { status: 503, headers: { 'Retry-After': '2' } });
    });
    const registration = {
      identity: identityPublic(identity),
      signedPreKey: signedPreKeyPublic(generateSignedPreKey(identity, 1, systemDeps)),
      oneTimePreKeys: generateOneTimePreKeys(1, 2, systemDeps).map(oneTimePreKeyPublic),
      kemPreKeys: [kemPreKeyPublic(generateKemPreKey(identity, 1, true, systemDeps))]
    };
    const auth = { username: asUsername('alice'), sign: (m: Uint8Array) => ed25519Sign(identity.signing.privateKey, m) };
    await expect(t.register(auth, registration)).rejects.toMatchObject({ code: 'HostBusy' });
  });

  test('P40 only calls the user waits on say RateLimited: a refused send stays Unavailable, which the outbox retries', async () => {
    const t = answering(429, { error: 'RateLimited', message: 'slow down' });
    const auth = { username: asUsername('alice'), sign: () => new Uint8Array(64) };
    (t as unknown as { token: unknown }).token = { username: asUsername('alice'), value: { token: new Uint8Array(32), expiresAt: Date.now() + 3_600_000 } };
    await expect(t.send(auth, asUsername('bob'), new Uint8Array(8))).rejects.toMatchObject({ code: 'Unavailable' });
    await expect(t.preKeyCounts(auth)).rejects.toMatchObject({ code: 'Unavailable' });
    const busy = answering(503, { error: { code: 'Unavailable', message: 'draining' } });
    (busy as unknown as { token: unknown }).token = { username: asUsername('alice'), value: { token: new Uint8Array(32), expiresAt: Date.now() + 3_600_000 } };
    await expect(busy.send(auth, asUsername('bob'), new Uint8Array(8))).rejects.toMatchObject({ code: 'Unavailable' });
  });
});

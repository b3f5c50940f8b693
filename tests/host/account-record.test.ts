/**
 * The account-record endpoint and device takeover (issue 5, DESIGN.md §7, P26) on the real host:
 * real SQLite, loopback HTTP and WebSocket. The host stores only sealed buckets and the SHA-256 of
 * the access key; restoring replaces every prekey and token and signs the old browser out.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, kemPreKeyPublic, oneTimePreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { ACCOUNT_RECORD_PATH, RECORD_KEY_HEADER, SIGNED_OUT_CLOSE_CODE, encodeTakeoverRequest } from '../../src/lib/wire/account-record-api';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { API, decodeBundleResponse, decodeTokenResponse, encodeLoginRequest, hostAuthMessage } from '../../src/lib/wire/host-api';
import { decodeBundle } from '../../src/lib/crypto/bundle';
import { toHex } from '../../src/lib/codec/bytes';
import { call, challenge, login, registerUser, startHost, WsClient, type TestUser } from './support';

const key = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
const sealedOf = (bucket: number, fill = 7): Uint8Array => new Uint8Array(1 + 24 + bucket + 16).fill(fill);

async function rec(url: string, user: string, o: { method: string; key?: Uint8Array; token?: Uint8Array; body?: Uint8Array }): Promise<{ status: number; bytes: Uint8Array }> {
  const headers: Record<string, string> = {};
  if (o.key) headers[RECORD_KEY_HEADER] = toBase64Url(o.key);
  if (o.token) headers.authorization = `Bearer ${toBase64Url(o.token)}`;
  if (o.body) headers['content-type'] = 'application/octet-stream';
  const res = await fetch(url + ACCOUNT_RECORD_PATH + user, { method: o.method, headers, body: o.body ? new Uint8Array(o.body) : undefined });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function takeoverBody(url: string, u: TestUser, device = key(0xd1), firstId = 1000) {
  const ch = await challenge(url);
  const deps = systemDeps;
  return encodeTakeoverRequest({
    login: { username: u.username, challenge: ch, signature: ed25519Sign(u.identity.signing.privateKey, hostAuthMessage(ch, u.username)), device },
    prekeys: {
      signedPreKey: signedPreKeyPublic(generateSignedPreKey(u.identity, firstId, deps)),
      oneTimePreKeys: generateOneTimePreKeys(firstId, 2, deps).map(oneTimePreKeyPublic),
      kemPreKeys: [kemPreKeyPublic(generateKemPreKey(u.identity, firstId, true, deps))]
    }
  });
}

describe('account record endpoint', () => {
  test('P26 the holder stores a sealed bucket and a new browser fetches it with the access key only', async () => {
    const host = await startHost();
    try {
      const alice = await registerUser(host.url, 'alice');
      const body = sealedOf(1024);
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body })).status).toBe(200);
      const got = await rec(host.url, 'alice', { method: 'GET', key: key(1) });
      expect(got.status).toBe(200);
      expect(toHex(got.bytes)).toBe(toHex(body));
      // Updates with the same key replace it; the size stays a bucket.
      const bigger = sealedOf(2048, 9);
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: bigger })).status).toBe(200);
      expect((await rec(host.url, 'alice', { method: 'GET', key: key(1) })).bytes.length).toBe(bigger.length);
    } finally {
      await host.close();
    }
  });

  test('P26 a wrong key looks like no record, and a non-bucket size is refused', async () => {
    const host = await startHost();
    try {
      const alice = await registerUser(host.url, 'alice');
      expect((await rec(host.url, 'alice', { method: 'GET', key: key(1) })).status).toBe(404);
      await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024) });
      expect((await rec(host.url, 'alice', { method: 'GET', key: key(2) })).status).toBe(404);
      expect((await rec(host.url, 'alice', { method: 'GET' })).status).toBe(401);
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: new Uint8Array(1000) })).status).toBe(400);
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1536) })).status).toBe(400);
    } finally {
      await host.close();
    }
  });

  test('only the authenticated holder with the matching key may write or delete', async () => {
    const host = await startHost();
    try {
      const alice = await registerUser(host.url, 'alice');
      const mallory = await registerUser(host.url, 'mallory');
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), body: sealedOf(1024) })).status).toBe(401);
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: mallory.token, body: sealedOf(1024) })).status).toBe(403);
      await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024, 1) });
      // Even the holder's token cannot swap the key: the record stays readable by the old one.
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(2), token: alice.token, body: sealedOf(1024, 2) })).status).toBe(403);
      expect((await rec(host.url, 'alice', { method: 'DELETE', key: key(2), token: alice.token })).status).toBe(403);
      expect((await rec(host.url, 'alice', { method: 'GET', key: key(1) })).bytes[0]).toBe(1);
      expect((await rec(host.url, 'alice', { method: 'DELETE', key: key(1), token: alice.token })).status).toBe(200);
      expect((await rec(host.url, 'alice', { method: 'GET', key: key(1) })).status).toBe(404);
      // After a delete, recovery can be turned on again under a new master secret.
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(3), token: alice.token, body: sealedOf(1024) })).status).toBe(200);
    } finally {
      await host.close();
    }
  });

  test('P24 the stored database holds the record ciphertext and a key hash, never the access key', async () => {
    const host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const secretKey = key(0x5a);
    await rec(host.url, 'alice', { method: 'PUT', key: secretKey, token: alice.token, body: sealedOf(1024) });
    await host.close();
    const needle = Buffer.from(secretKey);
    for (const f of readdirSync(host.dataDir)) {
      if (!f.includes('sqlite')) continue;
      expect(readFileSync(join(host.dataDir, f)).includes(needle)).toBe(false);
    }
  });

  test('the record survives a host restart', async () => {
    const host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024, 4) });
    await host.close();
    const again = await startHost({ dataDir: host.dataDir });
    try {
      expect((await rec(again.url, 'alice', { method: 'GET', key: key(1) })).bytes[0]).toBe(4);
    } finally {
      await again.close();
    }
  });
});

describe('device takeover after a restore', () => {
  test('the same identity replaces every prekey, old tokens die and the old socket is signed out', async () => {
    const host = await startHost();
    try {
      const alice = await registerUser(host.url, 'alice', { oneTime: 3 });
      const bob = await registerUser(host.url, 'bob');
      const old = await WsClient.open(host.url, alice.token);
      const closed = new Promise<number>((resolve) => old.ws.on('close', (code) => resolve(code)));
      const r = await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: await takeoverBody(host.url, alice) });
      expect(r.status).toBe(200);
      const fresh = decodeTokenResponse(r.json).token;
      expect(await closed).toBe(SIGNED_OUT_CLOSE_CODE);
      // The old browser's token is revoked; the new one works.
      expect((await call(host.url, API.prekeys, { token: alice.token })).status).toBe(401);
      expect((await call(host.url, API.prekeys, { token: fresh })).json).toEqual({ oneTime: 2, kem: 0 });
      // Bob now gets only fresh prekeys, under the same identity.
      const b = decodeBundle(decodeBundleResponse((await call(host.url, API.bundles + 'alice', { token: bob.token })).json));
      expect(b.signedPreKey.id).toBe(1000);
      expect(b.kemPreKey.id).toBe(1000);
      expect(b.oneTimePreKey?.id).toBeGreaterThanOrEqual(1000);
      // The old browser still holds the identity key, but without the device secret its login is refused.
      const oldLogin = await login(host.url, 'alice', alice.identity);
      expect(oldLogin.status).toBe(403);
      expect(oldLogin.json.error.code).toBe('SignedOut');
      const ch = await challenge(host.url);
      const signature = ed25519Sign(alice.identity.signing.privateKey, hostAuthMessage(ch, 'alice'));
      const withDevice = await call(host.url, API.login, { json: encodeLoginRequest({ username: 'alice', challenge: ch, signature, device: key(0xd1) }) });
      expect(withDevice.status).toBe(200);
    } finally {
      await host.close();
    }
  });

  test('a takeover signed by another key is refused and changes nothing', async () => {
    const host = await startHost();
    try {
      const alice = await registerUser(host.url, 'alice', { oneTime: 3 });
      const mallory = await registerUser(host.url, 'mallory');
      const forged = await takeoverBody(host.url, { ...mallory, username: 'alice' });
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: forged })).status).toBe(401);
      expect((await call(host.url, API.prekeys, { token: alice.token })).json).toEqual({ oneTime: 3, kem: 2 });
    } finally {
      await host.close();
    }
  });
});

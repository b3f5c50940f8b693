/**
 * The account-record endpoint, device takeover and realm tokens (DESIGN.md §7; P26, P37,
 * P38) on the real host: real SQLite, loopback HTTP and WebSocket. The host stores only sealed
 * buckets, the SHA-256 of the access key and the takeover PUBLIC key; restoring needs the identity
 * key AND a proof of the master secret, and replaces every prekey and token and sets the device
 * gate in one transaction, signing the old browser out.
 */
import Database from 'better-sqlite3';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, kemPreKeyPublic, oneTimePreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import {
  ACCOUNT_RECORD_PATH,
  RECORD_KEY_HEADER,
  SIGNED_OUT_CLOSE_CODE,
  TAKEOVER_KEY_HEADER,
  decodeRealmTokenResponse,
  encodeRealmTokenRequest,
  encodeTakeoverRequest
} from '../../src/lib/wire/account-record-api';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { signTakeover, takeoverKeyPair } from '../../src/lib/crypto/pin/takeover-key';
import { realmIdFromName, realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { REALM_TOKEN_LEN, realmTokenValid } from '../../src/lib/crypto/pin/realm-token';
import { ISSUER_PUBLIC_FILE } from '../../src/host/account-record';
import { DB_FILE } from '../../src/host/storage/sqlite';
import { API, decodeBundleResponse, decodeTokenResponse, encodeLoginRequest, hostAuthMessage } from '../../src/lib/wire/host-api';
import { decodeBundle } from '../../src/lib/crypto/bundle';
import { toHex } from '../../src/lib/codec/bytes';
import { call, challenge, login, registerUser, startHost, WsClient, type TestUser } from './support';

const key = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
const sealedOf = (bucket: number, fill = 7): Uint8Array => new Uint8Array(1 + 24 + bucket + 16).fill(fill);
/** The master secret of the tests' recovery setup, and the takeover key derived from it (P37). */
const MASTER = new Uint8Array(32).fill(0x4d);
const takeoverOf = (username: string, secret = MASTER) => takeoverKeyPair(secret, username);

async function rec(
  url: string,
  user: string,
  o: { method: string; key?: Uint8Array; token?: Uint8Array; body?: Uint8Array; takeover?: Uint8Array | null }
): Promise<{ status: number; bytes: Uint8Array }> {
  const headers: Record<string, string> = {};
  if (o.key) headers[RECORD_KEY_HEADER] = toBase64Url(o.key);
  // Every upload carries the takeover public key unless the test says otherwise (null: none).
  if (o.method === 'PUT' && o.takeover !== null) headers[TAKEOVER_KEY_HEADER] = toBase64Url(o.takeover ?? takeoverOf(user).publicKey);
  if (o.token) headers.authorization = `Bearer ${toBase64Url(o.token)}`;
  if (o.body) headers['content-type'] = 'application/octet-stream';
  const res = await fetch(url + ACCOUNT_RECORD_PATH + user, { method: o.method, headers, body: o.body ? new Uint8Array(o.body) : undefined });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** A restored browser's takeover: identity signature plus, by default, the proof from `secret`. */
async function takeoverBody(url: string, u: TestUser, device = key(0xd1), firstId = 1000, prove: ((ch: Uint8Array) => Uint8Array) | 'secret' = 'secret') {
  const ch = await challenge(url);
  const deps = systemDeps;
  const proof = prove === 'secret' ? signTakeover(takeoverOf(u.username).privateKey, ch, u.username, device) : prove(ch);
  return encodeTakeoverRequest({
    proof,
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
      await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024) });
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
      await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024) });
      const mallory = await registerUser(host.url, 'mallory');
      const forged = await takeoverBody(host.url, { ...mallory, username: 'alice' });
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: forged })).status).toBe(401);
      expect((await call(host.url, API.prekeys, { token: alice.token })).json).toEqual({ oneTime: 3, kem: 2 });
    } finally {
      await host.close();
    }
  });
});

describe('P37 takeover needs the master secret', () => {
  async function setUp(host: { url: string }) {
    const alice = await registerUser(host.url, 'alice', { oneTime: 3 });
    expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024) })).status).toBe(200);
    return alice;
  }
  const unchanged = async (url: string, alice: TestUser) => {
    expect((await call(url, API.prekeys, { token: alice.token })).json).toEqual({ oneTime: 3, kem: 2 });
    expect((await login(url, 'alice', alice.identity)).status).toBe(200);
  };

  test('P37 an old or stolen browser holding only the identity key cannot take the account over', async () => {
    const host = await startHost();
    try {
      const alice = await setUp(host);
      // It signs the challenge with the identity key, but has no master secret to prove: no proof,
      // a proof by its identity key, or by a key from another master secret are all refused.
      const identityProof = (ch: Uint8Array) => ed25519Sign(alice.identity.signing.privateKey, ch);
      const otherSecret = (ch: Uint8Array) => signTakeover(takeoverOf('alice', new Uint8Array(32).fill(0x99)).privateKey, ch, 'alice', key(0xd1));
      for (const prove of [identityProof, otherSecret, () => new Uint8Array(64)]) {
        const r = await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: await takeoverBody(host.url, alice, key(0xd1), 1000, prove) });
        expect(r.status).toBe(401);
        await unchanged(host.url, alice);
      }
      const { proof: _p, ...noProof } = await takeoverBody(host.url, alice);
      void _p;
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: noProof })).status).toBe(400);
      await unchanged(host.url, alice);
    } finally {
      await host.close();
    }
  });

  test('P37 a proof is bound to its challenge and its device: replayed or moved to another device it fails', async () => {
    const host = await startHost();
    try {
      const alice = await setUp(host);
      const ch = await challenge(host.url);
      const good = await takeoverBody(host.url, alice);
      // A proof for device d1 attached to a takeover registering device d2.
      const forOtherDevice = await takeoverBody(host.url, alice, key(0xd2), 1000, (c) => signTakeover(takeoverOf('alice').privateKey, c, 'alice', key(0xd1)));
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: forOtherDevice })).status).toBe(401);
      // A proof over another challenge than the login's.
      const otherChallenge = await takeoverBody(host.url, alice, key(0xd1), 1000, () => signTakeover(takeoverOf('alice').privateKey, ch, 'alice', key(0xd1)));
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: otherChallenge })).status).toBe(401);
      await unchanged(host.url, alice);
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: good })).status).toBe(200);
      // The same request again: its challenge is spent.
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: good })).status).toBe(401);
    } finally {
      await host.close();
    }
  });

  test('P37 without a takeover key on record there is no takeover at all', async () => {
    const host = await startHost();
    try {
      const alice = await registerUser(host.url, 'alice', { oneTime: 3 });
      const r = await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: await takeoverBody(host.url, alice) });
      expect(r.status).toBe(403);
      await unchanged(host.url, alice);
    } finally {
      await host.close();
    }
  });

  test('P37 the takeover key is fixed with the record: the signed-in holder cannot swap in a key of its own', async () => {
    const host = await startHost();
    try {
      const alice = await setUp(host);
      const thief = takeoverOf('alice', new Uint8Array(32).fill(0x77)).publicKey;
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024), takeover: thief })).status).toBe(403);
      expect((await rec(host.url, 'alice', { method: 'PUT', key: key(1), token: alice.token, body: sealedOf(1024), takeover: null })).status).toBe(400);
      // The original key still takes over.
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: await takeoverBody(host.url, alice) })).status).toBe(200);
    } finally {
      await host.close();
    }
  });

  test('P37 the device gate and the prekey replacement commit together: a failure setting the gate leaves everything as it was', async () => {
    const host = await startHost();
    try {
      const alice = await setUp(host);
      // Make the gate write fail inside the host's own database (a full disk, a crash: anything).
      const db = new Database(join(host.dataDir, DB_FILE));
      db.exec("CREATE TRIGGER fail_gate BEFORE INSERT ON device_gates BEGIN SELECT RAISE(ABORT, 'injected'); END");
      db.close();
      const r = await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: await takeoverBody(host.url, alice) });
      expect(r.status).toBe(500);
      // Nothing of the takeover happened: old prekeys, old token, and the old browser may log in.
      await unchanged(host.url, alice);
      const db2 = new Database(join(host.dataDir, DB_FILE));
      db2.exec('DROP TRIGGER fail_gate');
      db2.close();
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'alice/takeover', { json: await takeoverBody(host.url, alice) })).status).toBe(200);
      expect((await login(host.url, 'alice', alice.identity)).json.error.code).toBe('SignedOut');
    } finally {
      await host.close();
    }
  });
});

describe('P38 realm registration tokens', () => {
  const realmA = realmIdFromName('realm-a');
  const realmB = realmIdFromName('parley');

  test('P38 the signed-in holder gets a token per realm, signed by the issuer key the host publishes', async () => {
    const host = await startHost();
    try {
      const alice = await registerUser(host.url, 'alice');
      const r = await call(host.url, ACCOUNT_RECORD_PATH + 'alice/realm-tokens', { token: alice.token, json: encodeRealmTokenRequest([realmA, realmB]) });
      expect(r.status).toBe(200);
      const tokens = decodeRealmTokenResponse(r.json, 2, REALM_TOKEN_LEN);
      const issuer = fromBase64Url(readFileSync(join(host.dataDir, ISSUER_PUBLIC_FILE), 'utf8').trim(), 32);
      const now = Date.now();
      expect(realmTokenValid(tokens[0]!, [issuer], realmA, realmUserId('alice'), now)).toBe(true);
      expect(realmTokenValid(tokens[1]!, [issuer], realmB, realmUserId('alice'), now)).toBe(true);
      // Bound to its realm and user, and short-lived.
      expect(realmTokenValid(tokens[0]!, [issuer], realmB, realmUserId('alice'), now)).toBe(false);
      expect(realmTokenValid(tokens[0]!, [issuer], realmA, realmUserId('bob'), now)).toBe(false);
      expect(realmTokenValid(tokens[0]!, [issuer], realmA, realmUserId('alice'), now + 11 * 60_000)).toBe(false);
    } finally {
      await host.close();
    }
  });

  test('P38 nobody gets tokens for someone else: no bearer, another account, or a malformed request', async () => {
    const host = await startHost();
    try {
      await registerUser(host.url, 'alice');
      const mallory = await registerUser(host.url, 'mallory');
      const path = ACCOUNT_RECORD_PATH + 'alice/realm-tokens';
      expect((await call(host.url, path, { json: encodeRealmTokenRequest([realmA]) })).status).toBe(401);
      expect((await call(host.url, path, { token: mallory.token, json: encodeRealmTokenRequest([realmA]) })).status).toBe(403);
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'mallory/realm-tokens', { token: mallory.token, json: { realms: [] } })).status).toBe(400);
      expect((await call(host.url, ACCOUNT_RECORD_PATH + 'mallory/realm-tokens', { token: mallory.token, json: { realms: ['AA'] } })).status).toBe(400);
    } finally {
      await host.close();
    }
  });
});

// The realm service over real HTTP and real SQLite: atomic guess counting under concurrency
// (within one process and across two processes sharing the file), registration tokens and growing
// delays (P38), authorisation, rate limits, CORS (APP_ORIGIN) and strict request handling.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { createRealm } from '../../src/host/realm/create-realm';
import { seededDeps, systemDeps } from '../../src/lib/crypto/deps';
import { blind } from '../../src/lib/crypto/pin/oprf';
import { realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { REALM_DB_FILE } from '../../src/host/realm/store';
import { decodeRealmResponse, encodeRealmRequest, type RealmRequest, type RealmResponse } from '../../src/lib/wire/realm-api';
import { callRealm, type FetchLike, type RealmEndpoint } from '../../workers/engine/recovery/realm-client';
import { recoverWithPin, registerPin } from '../../workers/engine/recovery/recovery';
import { spawnRealmProcess, startRealm, startRealms, tempDir, type RunningRealm } from './realm-harness';
import { TEST_ISSUER, fastStretch, leapingClock, testTokens } from './support';
import { ed25519KeyPair, wipe } from '../../src/lib/crypto/primitives';
import { issueRealmToken } from '../../src/lib/crypto/pin/realm-token';
import { prepareRegistration } from '../../src/lib/crypto/pin/protocol';
import { realmAuthKey } from '../../src/lib/crypto/pin/realm-auth';
import { openRealmStorage } from '../../src/host/storage/open';
import { keyFileIn, REALM_ID_KEY_FILE } from '../../src/host/storage/name-key';
import { realmIdKey } from '../../src/host/storage/realm-ids';

const PIN = '2580-71';
const opts = { stretch: fastStretch };
const toClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (toClose.length) await toClose.pop()!();
});

/** Realms for P23 counting tests: a clock that leaps past the P38 delays, so only the limit counts. */
async function realmSet(n = 3, extra = {}) {
  const set = await startRealms(n, { perUser: { max: 10_000, windowMs: 60_000 }, clock: leapingClock(), ...extra });
  toClose.push(set.cleanup);
  return set.realms;
}

const ALICE = realmUserId('alice');
const evaluateReq = (e: RealmEndpoint, seed: string): RealmRequest => ({
  op: 'evaluate',
  realmId: e.id,
  userId: ALICE,
  blindedElement: blind(new Uint8Array(32).fill(9), seededDeps(seed)).blindedElement
});

/** Reads a user's row straight from a realm's SQLite file (read-only). */
function row(dataDir: string, userId = ALICE) {
  const db = new Database(join(dataDir, REALM_DB_FILE), { readonly: true });
  try {
    return db.prepare('SELECT record IS NULL AS destroyed, attempts, pending FROM realm_users WHERE user_id = ?').get(userId) as
      | { destroyed: number; attempts: number; pending: number }
      | undefined;
  } finally {
    db.close();
  }
}

async function register(realms: RunningRealm[]) {
  const endpoints = realms.map((r) => r.endpoint);
  return registerPin({ username: 'alice', pin: PIN, realms: endpoints, threshold: 2, tokens: testTokens('alice', endpoints) }, systemDeps, fetch, opts);
}

describe('P23 guess limit under concurrency', () => {
  test('P23 50 concurrent evaluations on one realm (Promise.all over HTTP): exactly 10 succeed, then the share is gone', async () => {
    const realms = await realmSet();
    await register(realms);
    const e = realms[0]!.endpoint;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => callRealm(e, evaluateReq(e, `c${i}`), fetch)));
    const statuses = answers.map((a) => a?.status);
    expect(statuses.filter((s) => s === 'ok')).toHaveLength(10);
    expect(statuses.filter((s) => s === 'destroyed')).toHaveLength(40);
    expect(row(realms[0]!.dataDir)).toEqual({ destroyed: 1, attempts: 0, pending: 0 });
  });

  test('P23 50 concurrent wrong-PIN recoveries against 3 realms: no realm serves more than 10 evaluations', async () => {
    const realms = await realmSet();
    const secret = await register(realms);
    const served = new Map<string, number>();
    // Counts every successful evaluation each realm answers, by decoding the real responses.
    const counting: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      const body = new Uint8Array(await res.arrayBuffer());
      const r = decodeRealmResponse(body);
      if (r.op === 'evaluate' && r.status === 'ok') served.set(url, (served.get(url) ?? 0) + 1);
      return new Response(body, { status: res.status });
    };
    const endpoints = realms.map((r) => r.endpoint);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => recoverWithPin({ username: 'alice', pin: '8642', realms: endpoints, threshold: 2 }, systemDeps, counting, opts))
    );
    expect(outcomes.some((o) => 'ok' in o)).toBe(false);
    for (const r of realms) {
      expect(served.get(r.url) ?? 0).toBeLessThanOrEqual(10);
      const after = row(r.dataDir);
      // Either destroyed, or the counter plus a pending (charged) evaluation stays within the limit.
      expect(after!.destroyed === 1 || after!.attempts + after!.pending <= 10).toBe(true);
    }
    // Whatever is left, the right PIN can only succeed if at least 2 realms survived with budget.
    const right = await recoverWithPin({ username: 'alice', pin: PIN, realms: endpoints, threshold: 2 }, systemDeps, fetch, opts);
    if ('ok' in right) expect(right.ok).toEqual(secret);
  });

  test('P23 P38 two realm processes on one SQLite file (real clock): of 50 concurrent evaluations only the 2 free ones are served', async () => {
    const dataDir = tempDir('realm-shared');
    // Both as a realm process opens its storage: rows keyed under the realm id key in dataDir.
    const idKey = realmIdKey(keyFileIn(dataDir, REALM_ID_KEY_FILE));
    const storage = await openRealmStorage({ dataDir }, idKey);
    const inProc = await startRealm('realm-shared', { dataDir, storage, perUser: { max: 10_000, windowMs: 60_000 } });
    const other = await spawnRealmProcess('realm-shared', dataDir);
    toClose.push(async () => {
      await other.stop();
      await inProc.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const otherEndpoint = { id: inProc.endpoint.id, url: other.url };
    // Register through one process, then race both processes against the same row.
    await registerPin({ username: 'alice', pin: PIN, realms: [inProc.endpoint], threshold: 1, tokens: testTokens('alice', [inProc.endpoint]) }, systemDeps, fetch, opts);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const e = i % 2 === 0 ? inProc.endpoint : otherEndpoint;
        return callRealm(e, evaluateReq(e, `p${i}`), fetch);
      })
    );
    // The child's default per-user limit (60/min) is not reached by 25 requests. Each evaluation
    // settles the previous one as wrong; after two wrong guesses the next must wait a minute, so
    // exactly the two free evaluations pass and every other answer is a refusal that costs nothing.
    const statuses = answers.map((a) => a?.status);
    expect(statuses.filter((s) => s === 'ok')).toHaveLength(2);
    expect(statuses.filter((s) => s === 'tooSoon')).toHaveLength(48);
    expect(row(dataDir, idKey.map(ALICE))).toEqual({ destroyed: 0, attempts: 1, pending: 1 });
  });
});

describe('P38 registration tokens: no slot squatting', () => {
  const sharedRecord = (endpoint: RealmEndpoint) =>
    prepareRegistration({ username: 'alice', pin: PIN, secret: new Uint8Array(32).fill(3), realms: [endpoint], threshold: 1 }, systemDeps, fastStretch).registrations[0]!.record;
  const registerReq = (e: RealmEndpoint, token?: Uint8Array): RealmRequest => ({
    op: 'register',
    realmId: e.id,
    userId: ALICE,
    authKey: realmAuthKey(new Uint8Array(32).fill(3), e.id, 'alice'),
    proof: new Uint8Array(32),
    ...(token ? { token } : {}),
    record: sharedRecord(e)
  });

  test('P38 a first registration without a token, or with a token of another issuer, realm, user or an expired one, is refused', async () => {
    const [r, other] = await realmSet(2, { clock: () => Date.now() });
    const e = r!.endpoint;
    const mallory = ed25519KeyPair(systemDeps);
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    const bad = [
      undefined,
      issueRealmToken(mallory.privateKey, { realmId: e.id, userId: ALICE, expiresAt: inAnHour }),
      testTokens('alice', [other!.endpoint])[0]!,
      testTokens('bob', [e])[0]!,
      testTokens('alice', [e], Math.floor(Date.now() / 1000) - 1)[0]!,
      testTokens('alice', [e])[0]!.map((b, i) => (i === 60 ? b ^ 1 : b))
    ];
    wipe(mallory.privateKey);
    for (const token of bad) expect((await callRealm(e, registerReq(e, token), fetch))?.status).toBe('unauthorized');
    expect(await callRealm(e, { op: 'status', realmId: e.id, userId: ALICE }, fetch)).toMatchObject({ state: 'none' });
    expect((await callRealm(e, registerReq(e, testTokens('alice', [e])[0]), fetch))?.status).toBe('ok');
  });

  test('P38 a realm with no issuer configured accepts no first registration at all', async () => {
    const [r] = await realmSet(1, { issuers: [] });
    const e = r!.endpoint;
    expect((await callRealm(e, registerReq(e, testTokens('alice', [e])[0]), fetch))?.status).toBe('unauthorized');
    expect(TEST_ISSUER.publicKey).toHaveLength(32);
  });
});

describe('realm requests and refusals', () => {
  async function post(url: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
    const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers });
    return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
  }
  const decoded = (b: Uint8Array): RealmResponse => decodeRealmResponse(b);

  test('garbage, truncated and oversized bodies are refused; other methods and paths are not served', async () => {
    const [r] = await realmSet(1);
    const e = r!.endpoint;
    const good = encodeRealmRequest(evaluateReq(e, 'g'));
    for (const bad of [new Uint8Array(0), good.subarray(0, good.length - 1), new Uint8Array([...good, 0]), new Uint8Array(100).fill(0xee)]) {
      const res = await post(r!.url, bad);
      expect(res.status).toBe(400);
      expect(decoded(res.body)).toEqual({ op: 'none', status: 'badRequest' });
    }
    expect((await post(r!.url, new Uint8Array(4096))).status).toBe(413);
    expect((await fetch(r!.url)).status).toBe(405);
    expect((await fetch(r!.url.replace('/realm/', '/realm/other'), { method: 'POST' })).status).toBe(404);
    expect((await fetch(r!.url.replace('/realm/', '/elsewhere'), { method: 'POST' })).status).toBe(404);
  });

  test('an unlock tag without a pending evaluation is refused and charges nothing', async () => {
    const realms = await realmSet(3);
    await register(realms);
    const e = realms[0]!.endpoint;
    const r = await callRealm(e, { op: 'submitTag', realmId: e.id, userId: ALICE, unlockTag: new Uint8Array(32) }, fetch);
    expect(r).toEqual({ op: 'submitTag', status: 'noPendingEvaluation' });
    expect(row(realms[0]!.dataDir)).toEqual({ destroyed: 0, attempts: 0, pending: 0 });
  });

  test('per-user and per-IP rate limits answer 429 without touching the counters', async () => {
    let now = 0;
    const [r] = await realmSet(1, { clock: () => now, perUser: { max: 3, windowMs: 1000 }, perIp: { max: 5, windowMs: 1000 } });
    const e = r!.endpoint;
    const status = (userId: Uint8Array): RealmRequest => ({ op: 'status', realmId: e.id, userId });
    const seq: string[] = [];
    for (let i = 0; i < 4; i++) seq.push((await callRealm(e, status(ALICE), fetch))!.status);
    expect(seq).toEqual(['ok', 'ok', 'ok', 'rateLimited']);
    // Another user from the same IP still has its own budget until the IP limit (5) is hit.
    expect((await callRealm(e, status(realmUserId('bob')), fetch))!.status).toBe('ok');
    const res = await post(e.url, encodeRealmRequest(status(realmUserId('carol'))));
    expect([res.status, decoded(res.body).status]).toEqual([429, 'rateLimited']);
    now += 1000;
    expect((await callRealm(e, status(ALICE), fetch))!.status).toBe('ok');
  });

  test('the per-IP limit counts one IPv6 /64 as one address', async () => {
    const [r] = await realmSet(1, { clock: () => 0, perIp: { max: 2, windowMs: 60_000 }, clientAddress: (req: import('node:http').IncomingMessage) => String(req.headers['x-test-client']) });
    const e = r!.endpoint;
    const from = async (ip: string) => (await post(e.url, encodeRealmRequest({ op: 'status', realmId: e.id, userId: ALICE }), { 'x-test-client': ip })).status;
    expect([await from('2001:db8:1:1::1'), await from('2001:db8:1:1::2'), await from('2001:db8:1:1:ffff::9'), await from('2001:db8:1:2::1')]).toEqual([200, 200, 429, 200]);
  });

  test('CORS: with no origins configured only the same origin is answered', async () => {
    const [r] = await realmSet(1, { allowedOrigins: [] });
    const body = encodeRealmRequest({ op: 'status', realmId: r!.endpoint.id, userId: ALICE });
    expect((await post(r!.url, body, { origin: new URL(r!.url).origin })).status).toBe(200);
    expect((await post(r!.url, body, { origin: 'https://app.example' })).status).toBe(403);
  });

  test('APP_ORIGIN: the realm answers exactly the configured origins (by default from APP_ORIGIN), nothing else', async () => {
    const saved = process.env.APP_ORIGIN;
    process.env.APP_ORIGIN = 'https://app.example, https://other-app.example';
    let r: RunningRealm;
    try {
      [r] = (await realmSet(1)) as [RunningRealm];
    } finally {
      if (saved === undefined) delete process.env.APP_ORIGIN;
      else process.env.APP_ORIGIN = saved;
    }
    const body = encodeRealmRequest({ op: 'status', realmId: r.endpoint.id, userId: ALICE });
    const allowed = await post(r.url, body, { origin: 'https://app.example' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await post(r.url, body, { origin: 'https://other-app.example' })).status).toBe(200);
    // Configured origins are the whole list: the realm's own Host no longer counts as allowed.
    const same = await post(r.url, body, { origin: new URL(r.url).origin });
    expect(same.status).toBe(403);
    const foreign = await post(r.url, body, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(r.url, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
  });

  test('mounted in a host: answers only under /realm/ and can share the host database without closing it', async () => {
    const dir = tempDir('realm-hostdb');
    const db = new Database(join(dir, 'host.sqlite'));
    const realm = createRealm({ id: 'parley', db });
    const req = (url: string) => ({ url }) as IncomingMessage;
    expect(await realm.handle(req('/api/other'), {} as ServerResponse)).toBe(false);
    expect(await realm.handle(req('/realmy'), {} as ServerResponse)).toBe(false);
    realm.close();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'realm_users'").get()).toEqual({ name: 'realm_users' });
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('status of a user nobody registered is "none"', async () => {
    const [r] = await realmSet(1);
    const e = r!.endpoint;
    expect(await callRealm(e, { op: 'status', realmId: e.id, userId: realmUserId('nobody') }, fetch)).toEqual({
      op: 'status',
      status: 'ok',
      state: 'none',
      remaining: 0,
      wrongGuesses: 0,
      failingSince: null,
      retryAfterMs: 0
    });
  });
});

// PIN registration and recovery end to end: the worker's driver talking HTTP to three real realms
// (SQLite in temp dirs, 127.0.0.1), threshold 2. The realms' clock leaps past the P38 delays
// except in the tests of the delays themselves.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import { decodeRealmResponse, encodeRealmResponse } from '../../src/lib/wire/realm-api';
import { deletePin, recoverWithPin, registerPin, type RecoverOutcome, type RegisterInput } from '../../workers/engine/recovery/recovery';
import { realmAuthKey } from '../../src/lib/crypto/pin/realm-auth';
import type { Deps } from '../../src/lib/crypto/deps';
import { callRealm, type RealmEndpoint } from '../../workers/engine/recovery/realm-client';
import { realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { startProxy, startRealms, type RunningRealm } from './realm-harness';
import { fastStretch, leapingClock, testTokens } from './support';

const PIN = '2580-71';
const WRONG = '8642';
const opts = { stretch: fastStretch };
let realms: RunningRealm[];
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ realms, cleanup } = await startRealms(3, { clock: leapingClock() }));
});
afterEach(() => cleanup());

const endpoints = (): RealmEndpoint[] => realms.map((r) => r.endpoint);
const base = (username = 'alice') => ({ username, realms: endpoints(), threshold: 2 });
/** registerPin with the host's tokens (P38), as the engine sends them. */
const registerPin2 = (input: RegisterInput, deps: Deps, f: typeof fetch, o = {}) => registerPin({ tokens: testTokens(input.username, input.realms), ...input }, deps, f, o);
const proofsOf = (secret: Uint8Array, username = 'alice') => endpoints().map((e) => realmAuthKey(secret, e.id, username));

/** Each realm's guesses left for a user, as its status reports (0 when destroyed or absent). */
async function budgets(username = 'alice', list: RealmEndpoint[] = endpoints()): Promise<(number | string)[]> {
  return Promise.all(
    list.map(async (e) => {
      const r = await callRealm(e, { op: 'status', realmId: e.id, userId: realmUserId(username) }, fetch);
      return r?.op === 'status' && r.status === 'ok' ? (r.state === 'registered' ? r.remaining : r.state) : 'unreachable';
    })
  );
}

const secretOf = (o: RecoverOutcome) => ('ok' in o ? o.ok : undefined);

describe('PIN recovery over HTTP (3 realms, threshold 2)', () => {
  test('register then recover with the pinned Argon2id returns the same master secret', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch);
    expect(secret).toHaveLength(32);
    const out = await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch);
    expect(secretOf(out)).toEqual(secret);
    expect(await budgets()).toEqual([10, 10, 10]);
  });

  test('recovery works with one realm down, and refuses to guess with two down', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    await realms[1]!.close();
    expect(secretOf(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts))).toEqual(secret);
    await realms[2]!.close();
    expect(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts)).toEqual({ unavailable: true, reachable: 1, attemptUsed: 'no' });
    // No guess was spent on the lone realm that still answers.
    expect((await budgets())[0]).toBe(10);
  });

  test('an unknown username is reported as not registered, without spending anything', async () => {
    expect(await recoverWithPin({ ...base('nobody'), pin: PIN }, systemDeps, fetch, opts)).toEqual({ notRegistered: true });
  });

  test('P23 10 wrong PINs destroy every share, then the right PIN fails', async () => {
    await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    const seen: RecoverOutcome[] = [];
    for (let i = 0; i < 10; i++) seen.push(await recoverWithPin({ ...base(), pin: WRONG }, systemDeps, fetch, opts));
    expect(seen.slice(0, 9)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1].map((remaining) => ({ wrongPin: true, remaining })));
    expect(seen[9]).toEqual({ destroyed: true });
    expect(await budgets()).toEqual(['destroyed', 'destroyed', 'destroyed']);
    expect(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts)).toEqual({ destroyed: true });
  });

  test('P23 9 wrong PINs and then the right one reset every counter', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    for (let i = 0; i < 9; i++) await recoverWithPin({ ...base(), pin: WRONG }, systemDeps, fetch, opts);
    expect(await budgets()).toEqual([1, 1, 1]);
    expect(secretOf(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts))).toEqual(secret);
    expect(await budgets()).toEqual([10, 10, 10]);
  });

  test.each([0, 1, 2])('P25 realm %i returning a corrupted share is detected; recovery succeeds and burns no guess', async (bad) => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    // The proxy flips one byte of the share in a successful tag response (op 3, status 0).
    const proxy = await startProxy(realms[bad]!.url, (_q, s) => (s[1] === 3 && s[2] === 0 ? s.map((b, j) => (j === 10 ? b ^ 0x40 : b)) : s));
    const list = endpoints().map((e, i) => (i === bad ? { ...e, url: proxy.url } : e));
    const out = await recoverWithPin({ username: 'alice', pin: PIN, realms: list, threshold: 2 }, systemDeps, fetch, opts);
    await proxy.close();
    expect(out).toEqual({ ok: secret, suspectRealms: [bad] });
    expect(await budgets()).toEqual([10, 10, 10]);
  });

  test.each([0, 2])('P25 realm %i answering a garbage evaluation is detected; recovery succeeds and burns no guess', async (bad) => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    // Replace the evaluated element (op 2, status 0) with the unlock commitment's bytes: valid length, wrong value.
    const proxy = await startProxy(realms[bad]!.url, (_q, s) => {
      if (s[1] !== 2 || s[2] !== 0) return s;
      const r = decodeRealmResponse(s);
      if (!('evaluation' in r)) return s;
      return encodeRealmResponse({ ...r, evaluation: { ...r.evaluation, evaluatedElement: r.evaluation.unlockCommitment } });
    });
    const list = endpoints().map((e, i) => (i === bad ? { ...e, url: proxy.url } : e));
    const out = await recoverWithPin({ username: 'alice', pin: PIN, realms: list, threshold: 2 }, systemDeps, fetch, opts);
    await proxy.close();
    expect(out).toEqual({ ok: secret, suspectRealms: [bad] });
    expect(await budgets()).toEqual([10, 10, 10]);
  });

  test('a realm answering garbage bytes counts as unreachable, and the others recover', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    const proxy = await startProxy(realms[0]!.url, (_q, s) => s.map((b) => b ^ 0xff));
    const list = endpoints().map((e, i) => (i === 0 ? { ...e, url: proxy.url } : e));
    expect(secretOf(await recoverWithPin({ username: 'alice', pin: PIN, realms: list, threshold: 2 }, systemDeps, fetch, opts))).toEqual(secret);
    await proxy.close();
  });

  test('a misconfigured realm URL is refused by the realm as the wrong realm and costs no guess', async () => {
    await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    // Realm b's id pinned with realm c's URL: c refuses every request addressed to b.
    const list = endpoints().map((e, i) => (i === 1 ? { ...e, url: realms[2]!.url } : e));
    const r = await callRealm(list[1]!, { op: 'status', realmId: list[1]!.id, userId: realmUserId('alice') }, fetch);
    expect(r).toEqual({ op: 'status', status: 'wrongRealm' });
    await recoverWithPin({ username: 'alice', pin: PIN, realms: list, threshold: 2 }, systemDeps, fetch, opts);
    expect(await budgets()).toEqual([10, 10, 10]);
  });

  test('change PIN keeps the master secret: the old PIN is wrong, the new one recovers it', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    await registerPin2({ ...base(), pin: '9137', secret }, systemDeps, fetch, opts);
    expect(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts)).toEqual({ wrongPin: true, remaining: 9 });
    expect(secretOf(await recoverWithPin({ ...base(), pin: '9137' }, systemDeps, fetch, opts))).toEqual(secret);
  });

  test('a stranger without the master secret can neither overwrite nor delete a registration', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    // Even with valid registration tokens: a token only opens an EMPTY slot.
    await expect(registerPin2({ ...base(), pin: '9137' }, systemDeps, fetch, opts)).rejects.toThrow(/accepted by 0 of 3 realms \(unauthorized, unauthorized, unauthorized\)/);
    expect(await deletePin({ username: 'alice', realms: endpoints(), proofs: proofsOf(new Uint8Array(32).fill(7)) }, fetch, opts)).toEqual({ deleted: 0, failed: 3 });
    expect(secretOf(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts))).toEqual(secret);
  });

  test('whoever recovered the secret (a new browser) may change the PIN; after turning recovery off nothing is left', async () => {
    await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    const recovered = secretOf(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts))!;
    await registerPin2({ ...base(), pin: '4826', secret: recovered }, systemDeps, fetch, opts);
    expect(secretOf(await recoverWithPin({ ...base(), pin: '4826' }, systemDeps, fetch, opts))).toEqual(recovered);
    expect(await deletePin({ username: 'alice', realms: endpoints(), proofs: proofsOf(recovered) }, fetch, opts)).toEqual({ deleted: 3, failed: 0 });
    expect(await recoverWithPin({ ...base(), pin: '4826' }, systemDeps, fetch, opts)).toEqual({ destroyed: true });
    // The tombstone keeps the verifier: a stranger cannot take the username over, the owner can re-register.
    await expect(registerPin2({ ...base(), pin: '9137' }, systemDeps, fetch, opts)).rejects.toThrow(/unauthorized/);
    await registerPin2({ ...base(), pin: '9137', secret: recovered }, systemDeps, fetch, opts);
    expect(secretOf(await recoverWithPin({ ...base(), pin: '9137' }, systemDeps, fetch, opts))).toEqual(recovered);
  });

  test('a PIN change is not attempted while a realm is down, so no realm is left on another version', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    await realms[2]!.close();
    await expect(registerPin2({ ...base(), pin: '9137', secret }, systemDeps, fetch, opts)).rejects.toThrow(/1 of 3 realms unavailable; registration not attempted/);
    expect(await recoverWithPin({ ...base(), pin: '9137' }, systemDeps, fetch, opts)).toEqual({ wrongPin: true, remaining: 9 });
    expect(secretOf(await recoverWithPin({ ...base(), pin: PIN }, systemDeps, fetch, opts))).toEqual(secret);
  });

  test('realm ids are derived from the configured names', () => {
    expect(realms.map((r) => r.realm.realmId)).toEqual(realms.map((r) => realmIdFromName(r.name)));
  });
});

describe('P38 recovery never calls a correct PIN wrong, and says truthfully whether an attempt was used', () => {
  test.each([3, 40, 100, 140, 180, 230, 265])('P38 one realm: byte %i of the evaluation answer flipped on the way is tampering by that realm, not a wrong PIN', async (at) => {
    const one = [realms[0]!.endpoint];
    const secret = await registerPin2({ username: 'alice', realms: one, threshold: 1, pin: PIN }, systemDeps, fetch, opts);
    // Flip one byte of a successful evaluation answer (op 2, status 0); everything else passes.
    const proxy = await startProxy(realms[0]!.url, (_q, s) => (s[1] === 2 && s[2] === 0 ? s.map((b, j) => (j === at ? b ^ 0x04 : b)) : s));
    const tampered = await recoverWithPin({ username: 'alice', realms: [{ ...one[0]!, url: proxy.url }], threshold: 1, pin: PIN }, systemDeps, fetch, opts);
    await proxy.close();
    expect(tampered).toEqual({ tampered: true, realms: [0], attemptUsed: 'yes', remaining: 9 });
    // The realm did charge that evaluation; the right PIN through an honest path resets it.
    expect(await recoverWithPin({ username: 'alice', realms: one, threshold: 1, pin: PIN }, systemDeps, fetch, opts)).toEqual({ ok: secret, suspectRealms: [] });
  });

  test('P38 one realm, no tampering: a wrong PIN is still reported as wrong', async () => {
    const one = [realms[0]!.endpoint];
    await registerPin2({ username: 'alice', realms: one, threshold: 1, pin: PIN }, systemDeps, fetch, opts);
    expect(await recoverWithPin({ username: 'alice', realms: one, threshold: 1, pin: WRONG }, systemDeps, fetch, opts)).toEqual({ wrongPin: true, remaining: 9 });
  });

  test('P38 a realm that calls the correct unlock tag wrong is named; the others still recover', async () => {
    const secret = await registerPin2({ ...base(), pin: PIN }, systemDeps, fetch, opts);
    // Realm 1 answers every tag (op 3) with "wrong guess, 9 left".
    const proxy = await startProxy(realms[1]!.url, (_q, s) => (s[1] === 3 ? encodeRealmResponse({ op: 'submitTag', status: 'wrongGuess', remaining: 9 }) : s));
    const list = endpoints().map((e, i) => (i === 1 ? { ...e, url: proxy.url } : e));
    const out = await recoverWithPin({ username: 'alice', pin: PIN, realms: list, threshold: 2 }, systemDeps, fetch, opts);
    await proxy.close();
    expect(out).toEqual({ ok: secret, suspectRealms: [1] });
  });

  test('P38 during the growing delay recovery spends nothing, says so, and says how long to wait', async () => {
    const set = await startRealms(3);
    try {
      const list = set.realms.map((r) => r.endpoint);
      await registerPin2({ username: 'alice', realms: list, threshold: 2, pin: PIN }, systemDeps, fetch, opts);
      for (let i = 0; i < 2; i++) expect(await recoverWithPin({ username: 'alice', realms: list, threshold: 2, pin: WRONG }, systemDeps, fetch, opts)).toMatchObject({ wrongPin: true });
      const before = await budgets('alice', list);
      const early = await recoverWithPin({ username: 'alice', realms: list, threshold: 2, pin: PIN }, systemDeps, fetch, opts);
      expect(early).toMatchObject({ tooSoon: true, attemptUsed: 'no' });
      if ('tooSoon' in early) expect(early.retryAfterMs).toBeGreaterThan(50_000);
      expect(await budgets('alice', list)).toEqual(before);
    } finally {
      await set.cleanup();
    }
  });
});

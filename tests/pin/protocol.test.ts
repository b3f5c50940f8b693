import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { sha256, sha512 } from '../../src/lib/crypto/primitives';
import {
  continueRecovery,
  finishRecovery,
  prepareRegistration,
  realmCheckUnlockTag,
  realmEvaluate,
  realmRegister,
  startRecovery,
  type EvaluationResponse,
  type RealmState
} from '../../src/lib/crypto/pin/protocol';
import { decodeRealmRecord, encodeRealmRecord } from '../../src/lib/crypto/pin/record';
import { realmSetId, stretchPin, type PinStretcher } from '../../src/lib/crypto/pin/stretch';
import { toHex } from '../../src/lib/codec/bytes';
import { fastStretch, realms } from './support';

const REALMS = realms(3);
/** The realms' clock and proof randomness (no delays apply: at most one wrong guess here). */
const realmDeps = seededDeps('realm-side');
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const VECTOR_PATH = new URL('../vectors/oprf-pin-registration.json', import.meta.url);
const utf8 = (s: string) => new TextEncoder().encode(s);

function register(pin = '1357', stretch: PinStretcher = fastStretch, seed = 'pin-register') {
  return prepareRegistration({ username: 'alice', pin, secret: SECRET, realms: REALMS, threshold: 2 }, seededDeps(seed), stretch);
}

interface Faults {
  /** Realm indices that do not answer at all. */
  offline?: number[];
  /** Realm index whose evaluation is replaced by another valid element. */
  garbageEvaluation?: number;
  /** Realm index whose released share is corrupted. */
  corruptShare?: number;
}

/** Runs steps 1-5 against in-memory realm states; returns the outcome and the realms' new states. */
function recover(states: RealmState[], pin: string, faults: Faults = {}, stretch: PinStretcher = fastStretch) {
  const { state, requests } = startRecovery({ username: 'alice', pin, realms: REALMS, threshold: 2 }, seededDeps(`recover-${pin}`), stretch);
  const next = [...states];
  const evaluations = [];
  for (const [i, req] of requests.entries()) {
    if (faults.offline?.includes(i)) continue;
    const r = realmEvaluate(next[i]!, req.blindedElement, realmDeps);
    next[i] = r.state;
    if (r.outcome !== 'evaluated') continue;
    const evaluatedElement = i === faults.garbageEvaluation ? requests[i]!.blindedElement : r.response.evaluatedElement;
    evaluations.push({ realmId: req.realmId, ...r.response, evaluatedElement });
  }
  const unlocked = continueRecovery(state, evaluations);
  if (unlocked.outcome === 'tampered') throw new Error(`tampered: ${unlocked.realms.length} realms`);
  const shares = [];
  for (const t of unlocked.tags) {
    const i = REALMS.findIndex((c) => c.id[0] === t.realmId[0]);
    const r = realmCheckUnlockTag(next[i]!, t.unlockTag);
    next[i] = r.state;
    if (!r.share) continue;
    const share = i === faults.corruptShare ? { ...r.share, encryptedSecretShare: r.share.encryptedSecretShare.map((b, j) => (j === 0 ? b ^ 1 : b)) } : r.share;
    shares.push({ realmId: t.realmId, ...share });
  }
  if (unlocked.outcome !== 'unlocked') {
    return { outcome: unlocked.outcome, states: next, shares, misbehaving: [] as Uint8Array[], secret: undefined, corruptRealms: [] as Uint8Array[] };
  }
  return { outcome: unlocked.outcome, states: next, shares, misbehaving: unlocked.misbehavingRealms, ...finishRecovery(unlocked.state, shares) };
}

const fresh = (pin?: string) => register(pin).registrations.map((r) => realmRegister(r.record));
const attempts = (states: RealmState[]) => states.map((s) => (s.status === 'registered' ? s.attempts : -1));

describe('PIN recovery: register -> recover (2-of-3)', () => {
  test('full round trip with the pinned Argon2id parameters', () => {
    const states = register('1357', stretchPin).registrations.map((r) => realmRegister(r.record));
    const r = recover(states, '1357', {}, stretchPin);
    expect(r.outcome).toBe('unlocked');
    expect(r.secret).toEqual(SECRET);
    expect(attempts(r.states)).toEqual([0, 0, 0]);
  });

  test.each([[[0]], [[1]], [[2]]])('round trip with realm %j offline', (offline) => {
    const r = recover(fresh(), '1357', { offline });
    expect(r.secret).toEqual(SECRET);
  });

  test('wrong PIN: no share is released and one guess is charged on every realm', () => {
    const r = recover(fresh(), '2468');
    expect(r.outcome).toBe('wrongPin');
    expect(r.shares).toEqual([]);
    expect(attempts(r.states)).toEqual([1, 1, 1]);
  });

  test('with only one realm answering, recovery refuses instead of guessing', () => {
    expect(() => recover(fresh(), '1357', { offline: [0, 1] })).toThrow(/InvalidMessage: 1 realm evaluations, need 2/);
  });

  test('registration refuses a weak PIN, a wrong-size secret and a bad threshold', () => {
    const deps = seededDeps('bad');
    const base = { username: 'alice', pin: '1357', secret: SECRET, realms: REALMS, threshold: 2 };
    expect(() => prepareRegistration({ ...base, pin: '1234' }, deps, fastStretch)).toThrow(/InvalidArgument: weak PIN: .*sequence/);
    expect(() => prepareRegistration({ ...base, secret: new Uint8Array(31) }, deps, fastStretch)).toThrow(/InvalidArgument/);
    expect(() => prepareRegistration({ ...base, threshold: 4 }, deps, fastStretch)).toThrow(/InvalidArgument/);
    expect(() => prepareRegistration({ ...base, realms: [REALMS[0]!, REALMS[0]!] }, deps, fastStretch)).toThrow(/duplicate/);
  });

  test('registration does not mutate its input', () => {
    const input = { username: 'alice', pin: '1357', secret: SECRET.slice(), realms: realms(3), threshold: 2 };
    const snapshot = structuredClone(input);
    prepareRegistration(input, seededDeps('mutate'), fastStretch);
    expect(input).toEqual(snapshot);
  });

  test('P26 record size depends on neither the PIN nor the username', () => {
    const sizes = new Set<number>();
    for (const [username, pin] of [['a', '8264'], ['a-much-longer-username', 'a rather long passphrase of many words']]) {
      const reg = prepareRegistration({ username: username!, pin: pin!, secret: SECRET, realms: REALMS, threshold: 2 }, seededDeps(pin!), fastStretch);
      for (const { record } of reg.registrations) sizes.add(encodeRealmRecord(record).length);
    }
    expect([...sizes]).toEqual([1 + 16 + 32 * 4 + 72 + 32 + 1 + 32 + 64]);
  });

  test('recovery steps do not mutate their inputs', () => {
    const states = fresh();
    const { state, requests } = startRecovery({ username: 'alice', pin: '1357', realms: REALMS, threshold: 2 }, seededDeps('m'), fastStretch);
    const evals = requests.map((q, i) => {
      const r = realmEvaluate(states[i]!, q.blindedElement, realmDeps);
      if (r.outcome !== 'evaluated') throw new Error('unreachable');
      states[i] = r.state;
      return { realmId: q.realmId, ...r.response };
    });
    const [stateCopy, evalsCopy] = [structuredClone(state), structuredClone(evals)];
    const unlocked = continueRecovery(state, evals);
    expect([state, evals]).toEqual([stateCopy, evalsCopy]);
    if (unlocked.outcome !== 'unlocked') throw new Error('unreachable');
    const shares = unlocked.tags.map((t, i) => ({ realmId: t.realmId, ...realmCheckUnlockTag(states[i]!, t.unlockTag).share! }));
    const [unlockedCopy, sharesCopy] = [structuredClone(unlocked.state), structuredClone(shares)];
    expect(finishRecovery(unlocked.state, shares).secret).toEqual(SECRET);
    expect([unlocked.state, shares]).toEqual([unlockedCopy, sharesCopy]);
  });

  test('realm records round-trip through their strict encoding', () => {
    for (const { record } of register().registrations) {
      const bytes = encodeRealmRecord(record);
      expect(decodeRealmRecord(bytes)).toEqual(record);
      expect(() => decodeRealmRecord(new Uint8Array([...bytes, 0]))).toThrow(/DecodeFailed/);
      expect(() => decodeRealmRecord(bytes.subarray(0, bytes.length - 1))).toThrow(/DecodeFailed/);
      // Format 1 (before the signed key share, P38) and an unknown format 3 are refused.
      expect(() => decodeRealmRecord(new Uint8Array([1, ...bytes.subarray(1)]))).toThrow(/UnsupportedVersion/);
      expect(() => decodeRealmRecord(new Uint8Array([3, ...bytes.subarray(1)]))).toThrow(/UnsupportedVersion/);
    }
  });

  test('frozen registration records (tests/vectors/oprf-pin-registration.json)', () => {
    const { realmSetId: setId, registrations } = register();
    const actual = {
      source: "frozen from seededDeps seed 'pin-register' with fastStretch (tests/pin/support.ts): username alice, PIN 1357, secret i*7, realms(3), threshold 2",
      realmSetId: toHex(setId),
      records: registrations.map((r) => ({ realmId: toHex(r.realmId), record: toHex(encodeRealmRecord(r.record)) }))
    };
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(actual, null, 2) + '\n');
    expect(actual).toEqual(JSON.parse(readFileSync(VECTOR_PATH, 'utf8')));
  });
});

describe('P25 robust recovery', () => {
  test('P25 the PIN typed with Arabic-Indic digits recovers what was registered with ASCII and spaces', () => {
    const states = register(' 13 57 ').registrations.map((r) => realmRegister(r.record));
    expect(recover(states, '١٣٥٧').secret).toEqual(SECRET);
    expect(recover(states, '１３５７').secret).toEqual(SECRET);
  });

  test.each([0, 1, 2])('P25 a corrupted share from realm %i is detected and the others recover, no guess burned', (bad) => {
    const r = recover(fresh(), '1357', { corruptShare: bad });
    expect(r.secret).toEqual(SECRET);
    expect(r.corruptRealms).toEqual([REALMS[bad]!.id]);
    expect(attempts(r.states)).toEqual([0, 0, 0]);
  });

  test.each([0, 1, 2])('P25 a garbage evaluation from realm %i is detected and skipped, no guess burned', (bad) => {
    const r = recover(fresh(), '1357', { garbageEvaluation: bad });
    expect(r.secret).toEqual(SECRET);
    expect(r.misbehaving).toEqual([REALMS[bad]!.id]);
    expect(attempts(r.states)).toEqual([0, 0, 0]);
  });

  test('P25 two corrupted shares of three leave too few verified shares: a typed error, not a wrong secret', () => {
    const reg = register();
    const states = reg.registrations.map((r) => realmRegister(r.record));
    const { state, requests } = startRecovery({ username: 'alice', pin: '1357', realms: REALMS, threshold: 2 }, seededDeps('x'), fastStretch);
    const evals = requests.map((q, i) => {
      const r = realmEvaluate(states[i]!, q.blindedElement, realmDeps);
      if (r.outcome !== 'evaluated') throw new Error('unreachable');
      states[i] = r.state;
      return { realmId: q.realmId, ...r.response };
    });
    const unlocked = continueRecovery(state, evals);
    if (unlocked.outcome !== 'unlocked') throw new Error('unreachable');
    const shares = unlocked.tags.map((t, i) => {
      const share = realmCheckUnlockTag(states[i]!, t.unlockTag).share!;
      return { realmId: t.realmId, ...share, commitment: i < 2 ? share.commitment.map((b) => b ^ 0xff) : share.commitment };
    });
    expect(() => finishRecovery(unlocked.state, shares)).toThrow(/InvalidMac: 1 shares passed their commitment, need 2/);
  });
});

describe('P24 no offline PIN test from one realm', () => {
  const pin = '1357';
  const candidates = ['0246', '1357', '8642', '9753', '2468'];
  const setId = realmSetId(REALMS.map((r) => r.id), 2);

  test('P24 record bytes hold no PIN, no PIN hash and no Argon2 output', () => {
    const stretched = fastStretch(pin, 'alice', setId);
    const forbidden = [
      utf8(pin),
      sha256(utf8(pin)),
      sha512(utf8(pin)),
      stretched.accessKey,
      stretched.encryptionKeySeed,
      sha256(stretched.accessKey),
      sha512(stretched.accessKey)
    ];
    for (const { record } of register(pin).registrations) {
      const hex = toHex(encodeRealmRecord(record));
      // Any 4-byte window of a forbidden value appearing in the record fails (8 hex chars).
      for (const f of forbidden) {
        for (let o = 0; o + 4 <= f.length; o++) expect(hex.includes(toHex(f.subarray(o, o + 4)))).toBe(false);
      }
    }
  });

  /** An attacker's guess loop over one or more dumped records (it knows the public version). */
  function offlineMatches(recordsDumped: number[], stretchFor: (p: string) => Uint8Array) {
    const { registrations } = register(pin);
    return candidates.filter((p) => {
      const start = startRecovery({ username: 'alice', pin: p, realms: REALMS, threshold: 2 }, seededDeps(`dump-${p}`), (q, u, s) => {
        const real = fastStretch(q, u, s);
        return { accessKey: stretchFor(q), encryptionKeySeed: real.encryptionKeySeed };
      });
      const evals = recordsDumped.map((i) => {
        const rec = registrations[i]!.record;
        const r = realmEvaluate(realmRegister(rec), start.requests[i]!.blindedElement, realmDeps);
        if (r.outcome !== 'evaluated') throw new Error('unreachable');
        return { realmId: REALMS[i]!.id, ...r.response };
      });
      // With one share the attacker can only run the combination over that one share (t = 1).
      const state = { ...start.state, set: { ...start.state.set, threshold: evals.length } };
      return continueRecovery(state, evals).outcome === 'unlocked';
    });
  }

  test("P24 with one realm's record, a guess loop cannot tell the right PIN from wrong ones", () => {
    for (const i of [0, 1, 2]) expect(offlineMatches([i], (p) => fastStretch(p, 'alice', setId).accessKey)).toEqual([]);
  });

  test('P24 the same loop with t records finds the PIN — and only through the Argon2 output', () => {
    expect(offlineMatches([0, 2], (p) => fastStretch(p, 'alice', setId).accessKey)).toEqual([pin]);
    // Skipping Argon2 (feeding the PIN or its SHA-512 as the OPRF input) matches nothing.
    expect(offlineMatches([0, 2], (p) => utf8(p))).toEqual([]);
    expect(offlineMatches([0, 2], (p) => sha512(utf8(p)).subarray(0, 32))).toEqual([]);
  });
});

describe('P38 a tampered realm answer is reported as tampering, never as a wrong PIN', () => {
  const ONE = realms(1);
  const FIELDS = ['evaluatedElement', 'proof', 'publicKey', 'registrationKey', 'keySignature', 'unlockCommitment', 'version'] as const;

  /** One evaluation round against a single realm (1-of-1), with `mutate` applied to its answer. */
  function oneRealm(pin: string, mutate: (r: EvaluationResponse) => EvaluationResponse = (r) => r) {
    const { registrations } = prepareRegistration({ username: 'alice', pin: '1357', secret: SECRET, realms: ONE, threshold: 1 }, seededDeps('one'), fastStretch);
    const { state, requests } = startRecovery({ username: 'alice', pin, realms: ONE, threshold: 1 }, seededDeps(`one-${pin}`), fastStretch);
    const r = realmEvaluate(realmRegister(registrations[0]!.record), requests[0]!.blindedElement, realmDeps);
    if (r.outcome !== 'evaluated') throw new Error('unreachable');
    return continueRecovery(state, [{ realmId: ONE[0]!.id, ...mutate(r.response) }]);
  }

  test('P38 untampered: the right PIN unlocks and a wrong PIN is wrong', () => {
    expect(oneRealm('1357').outcome).toBe('unlocked');
    expect(oneRealm('2468').outcome).toBe('wrongPin');
  });

  test.each(FIELDS)('P38 a flipped byte in %s with the RIGHT PIN is tampering by that realm', (field) => {
    for (const at of [0, 7, 15]) {
      const r = oneRealm('1357', (resp) => ({ ...resp, [field]: resp[field].map((b, j) => (j === at ? b ^ 0x01 : b)) }));
      expect(r).toEqual({ outcome: 'tampered', realms: [ONE[0]!.id] });
    }
  });

  test('P38 an evaluation replayed from an earlier attempt is tampering, not a wrong PIN', () => {
    const { registrations } = prepareRegistration({ username: 'alice', pin: '1357', secret: SECRET, realms: ONE, threshold: 1 }, seededDeps('one'), fastStretch);
    const state0 = realmRegister(registrations[0]!.record);
    const first = startRecovery({ username: 'alice', pin: '1357', realms: ONE, threshold: 1 }, seededDeps('replay-1'), fastStretch);
    const old = realmEvaluate(state0, first.requests[0]!.blindedElement, realmDeps);
    const second = startRecovery({ username: 'alice', pin: '1357', realms: ONE, threshold: 1 }, seededDeps('replay-2'), fastStretch);
    if (old.outcome !== 'evaluated') throw new Error('unreachable');
    expect(continueRecovery(second.state, [{ realmId: ONE[0]!.id, ...old.response }])).toEqual({ outcome: 'tampered', realms: [ONE[0]!.id] });
  });

  test('P38 in 2-of-3, a realm answering from a registration of its own making is outvoted and named', () => {
    const states = fresh();
    const forged = prepareRegistration({ username: 'alice', pin: '8147', secret: SECRET, realms: REALMS, threshold: 2 }, seededDeps('forged'), fastStretch);
    states[1] = realmRegister(forged.registrations[1]!.record);
    const { state, requests } = startRecovery({ username: 'alice', pin: '1357', realms: REALMS, threshold: 2 }, seededDeps('outvote'), fastStretch);
    const evals = requests.map((q, i) => {
      const r = realmEvaluate(states[i]!, q.blindedElement, realmDeps);
      if (r.outcome !== 'evaluated') throw new Error('unreachable');
      return { realmId: q.realmId, ...r.response };
    });
    const r = continueRecovery(state, evals);
    expect(r.outcome).toBe('unlocked');
    if (r.outcome === 'unlocked') expect(r.misbehavingRealms).toEqual([REALMS[1]!.id]);
  });

  test('P38 two tampered answers of three leave the PIN untested: tampering, naming both', () => {
    const { state, requests } = startRecovery({ username: 'alice', pin: '1357', realms: REALMS, threshold: 2 }, seededDeps('two-bad'), fastStretch);
    const states = fresh();
    const evals = requests.map((q, i) => {
      const r = realmEvaluate(states[i]!, q.blindedElement, realmDeps);
      if (r.outcome !== 'evaluated') throw new Error('unreachable');
      const e = i === 2 ? r.response : { ...r.response, evaluatedElement: requests[i]!.blindedElement };
      return { realmId: q.realmId, ...e };
    });
    expect(continueRecovery(state, evals)).toEqual({ outcome: 'tampered', realms: [REALMS[0]!.id, REALMS[1]!.id] });
  });
});

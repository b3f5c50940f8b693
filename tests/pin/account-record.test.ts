// The sealed account record (src/lib/crypto/account-record.ts): round trip, tamper detection,
// username binding, strict canonical decoding and size buckets (P26).
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { isProtocolError } from '../../src/lib/codec/errors';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import {
  accountRecordBucket,
  decodeAccountRecord,
  encodeAccountRecord,
  openAccountRecord,
  sealAccountRecord,
  sealedLength,
  type AccountRecord
} from '../../src/lib/crypto/account-record';
import { toHex } from '../../src/lib/codec/bytes';
import { asUsername, type Username } from '../../src/lib/codec/username';

const SECRET = new Uint8Array(32).fill(0x42);
const VECTOR = new URL('../vectors/account-record.json', import.meta.url);

function record(seed = 'alice', displayName = 'Alice ✨', contacts = 2): AccountRecord {
  const deps = seededDeps(seed);
  return {
    identity: generateIdentity(deps),
    profile: { displayName },
    profileKey: deps.rng(32),
    settings: { 'reminder.next': '1700000000000', theme: 'dark' },
    contacts: Array.from({ length: contacts }, (_, i) => ({
      username: asUsername(`friend_${String(i).padStart(3, '0')}`),
      identity: identityPublic(generateIdentity(deps)),
      verified: i % 2 === 0,
      verifiedAt: i % 2 === 0 ? 1_700_000_000_000 + i : null
    })),
    blocked: [asUsername('carol'), asUsername('mallory.x')],
    groups: []
  };
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
};

describe('account record', () => {
  test('seals and opens to the same record', () => {
    const a = record();
    const sealed = sealAccountRecord(a, SECRET, 'alice', seededDeps('seal'));
    expect(openAccountRecord(sealed, SECRET, 'alice')).toEqual(a);
  });

  test('contacts and blocked users are stored in one canonical order', () => {
    const a = record();
    const shuffled = { ...a, contacts: [...a.contacts].reverse(), blocked: [...a.blocked].reverse() };
    expect(encodeAccountRecord(shuffled)).toEqual(encodeAccountRecord(a));
  });

  test('a flipped bit anywhere in the sealed record is refused with InvalidMac (UnsupportedVersion for the version byte)', () => {
    const sealed = sealAccountRecord(record(), SECRET, 'alice', seededDeps('seal'));
    const codes = new Set<string>();
    for (let i = 0; i < sealed.length; i++) {
      const t = sealed.slice();
      t[i] = t[i]! ^ (1 << (i % 8));
      codes.add(`${i === 0 ? 'v' : 'b'}:${codeOf(() => openAccountRecord(t, SECRET, 'alice'))}`);
    }
    expect([...codes].sort()).toEqual(['b:InvalidMac', 'v:UnsupportedVersion']);
  });

  test('a record opened under another username or another master secret fails InvalidMac', () => {
    const sealed = sealAccountRecord(record(), SECRET, 'alice', seededDeps('seal'));
    expect(codeOf(() => openAccountRecord(sealed, SECRET, 'mallory'))).toBe('InvalidMac');
    expect(codeOf(() => openAccountRecord(sealed, SECRET.map((b) => b ^ 1), 'alice'))).toBe('InvalidMac');
  });

  test('truncated or extended sealed records are refused', () => {
    const sealed = sealAccountRecord(record(), SECRET, 'alice', seededDeps('seal'));
    for (const n of [0, 1, 25, 1000, sealed.length - 1]) expect(codeOf(() => openAccountRecord(sealed.subarray(0, n), SECRET, 'alice'))).toMatch(/DecodeFailed|InvalidMac/);
    expect(codeOf(() => openAccountRecord(new Uint8Array([...sealed, 0]), SECRET, 'alice'))).toBe('DecodeFailed');
  });

  test('P26 records of similar size seal to the same length, whatever their content (no compression)', () => {
    const repetitive = record('a', 'a'.repeat(200));
    const varied = record('b', Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x21 + ((i * 37) % 90))).join(''));
    const lengths = [repetitive, varied].map((r) => sealAccountRecord(r, SECRET, 'alice', seededDeps('s')).length);
    expect(lengths[0]).toBe(lengths[1]);
    expect(lengths[0]).toBe(1 + 24 + 1024 + 16);
  });

  test('P26 sizes come in power-of-two buckets from 1 KiB', () => {
    expect([0, 1023, 1024, 2047, 2048, 5000].map(accountRecordBucket)).toEqual([1024, 1024, 2048, 2048, 4096, 8192]);
    for (const n of [0, 10, 50, 200]) {
      const r = record('bucket', 'x', n);
      const sealed = sealAccountRecord(r, SECRET, 'alice', seededDeps('s'));
      expect(sealed.length).toBe(sealedLength(encodeAccountRecord(r).length));
      expect(openAccountRecord(sealed, SECRET, 'alice').contacts).toHaveLength(n);
    }
    expect(new Set([0, 1, 2, 3].map((n) => sealAccountRecord(record('b', 'x', n), SECRET, 'alice', seededDeps('s')).length)).size).toBe(1);
  });

  test('encoding refuses non-canonical input: duplicates, bad usernames, groups, oversize fields', () => {
    const a = record();
    expect(codeOf(() => encodeAccountRecord({ ...a, blocked: [asUsername('carol'), asUsername('carol')] }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeAccountRecord({ ...a, contacts: [a.contacts[0]!, a.contacts[0]!] }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeAccountRecord({ ...a, blocked: ['Carol'] as unknown as Username[] }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeAccountRecord({ ...a, groups: [1] as never[] }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeAccountRecord({ ...a, profile: { displayName: 'x'.repeat(257) } }))).toBe('InvalidArgument');
  });

  test('decoding is strict: truncation, trailing bytes, another version, a non-boolean flag', () => {
    const a = record('strict', 'A', 1);
    const enc = encodeAccountRecord(a);
    for (let n = 0; n < enc.length; n += 7) expect(codeOf(() => decodeAccountRecord(enc.subarray(0, n)))).toBe('DecodeFailed');
    expect(codeOf(() => decodeAccountRecord(new Uint8Array([...enc, 0])))).toBe('DecodeFailed');
    expect(codeOf(() => decodeAccountRecord(new Uint8Array([2, ...enc.subarray(1)])))).toBe('UnsupportedVersion');
    // version, identity pair, profile key, name (2+1), settings, contact count, username, identity: then the flag.
    const settingsLen = 2 + Object.entries(a.settings).reduce((n, [k, v]) => n + 4 + k.length + v.length, 0);
    const flagAt = 1 + 161 + 32 + 3 + settingsLen + 4 + 2 + a.contacts[0]!.username.length + 131;
    expect(enc[flagAt]).toBe(1);
    const bad = enc.slice();
    bad[flagAt] = 2;
    expect(codeOf(() => decodeAccountRecord(bad))).toBe('DecodeFailed');
  });

  test('sealing and encoding never mutate their inputs', () => {
    const a = record();
    const snapshot = structuredClone(a);
    const secret = SECRET.slice();
    sealAccountRecord(a, secret, 'alice', seededDeps('m'));
    expect(a).toEqual(snapshot);
    expect(secret).toEqual(SECRET);
  });

  test('frozen sealed record (tests/vectors/account-record.json)', () => {
    const actual = {
      source: "frozen from seededDeps seed 'alice' (record) and 'seal' (nonce), master secret 0x42*32, username alice",
      sealed: toHex(sealAccountRecord(record(), SECRET, 'alice', seededDeps('seal')))
    };
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR, JSON.stringify(actual, null, 2) + '\n');
    expect(actual).toEqual(JSON.parse(readFileSync(VECTOR, 'utf8')));
  });
});

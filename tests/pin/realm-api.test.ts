// Strict codecs of the realm API (src/lib/wire/realm-api.ts).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { blind } from '../../src/lib/crypto/pin/oprf';
import { prepareRegistration } from '../../src/lib/crypto/pin/protocol';
import { realmIdFromName, realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import {
  MAX_REQUEST_LEN,
  MAX_RESPONSE_LEN,
  REALM_RECORD_LEN,
  decodeRealmRequest,
  decodeRealmResponse,
  encodeRealmRequest,
  encodeRealmResponse,
  type RealmRequest,
  type RealmResponse
} from '../../src/lib/wire/realm-api';
import { encodeRealmRecord } from '../../src/lib/crypto/pin/record';
import { fastStretch, realms, testTokens } from './support';
import { codeOf } from '../support/code-of';

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const head = { realmId: realmIdFromName('realm-a'), userId: realmUserId('alice') };
const record = prepareRegistration(
  { username: 'alice', pin: '1357', secret: bytes(32, 3), realms: realms(3), threshold: 2 },
  seededDeps('api'),
  fastStretch
).registrations[0]!.record;

const requests: RealmRequest[] = [
  { ...head, op: 'register', authKey: bytes(32, 1), proof: bytes(32, 2), record },
  { ...head, op: 'register', authKey: bytes(32, 1), proof: bytes(32, 2), token: testTokens('alice', [head.realmId].map((id) => ({ id })))[0]!, record },
  { ...head, op: 'evaluate', blindedElement: blind(bytes(32, 9), seededDeps('b')).blindedElement },
  { ...head, op: 'submitTag', unlockTag: bytes(32, 4) },
  { ...head, op: 'delete', proof: bytes(32, 5) },
  { ...head, op: 'status' }
];

const responses: RealmResponse[] = [
  { op: 'register', status: 'ok' },
  { op: 'register', status: 'unauthorized' },
  {
    op: 'evaluate',
    status: 'ok',
    evaluation: {
      evaluatedElement: bytes(32, 6),
      proof: bytes(64, 9),
      publicKey: bytes(32, 10),
      registrationKey: bytes(32, 11),
      keySignature: bytes(64, 12),
      unlockCommitment: bytes(32, 7),
      version: bytes(16, 8)
    }
  },
  { op: 'evaluate', status: 'tooSoon', retryAfterMs: 120_000 },
  { op: 'evaluate', status: 'destroyed' },
  { op: 'evaluate', status: 'notRegistered' },
  { op: 'submitTag', status: 'ok', remaining: 10, share: { encryptedSecretShare: bytes(32, 1), encryptedSecret: bytes(72, 2), commitment: bytes(32, 3) } },
  { op: 'submitTag', status: 'wrongGuess', remaining: 4 },
  { op: 'submitTag', status: 'noPendingEvaluation' },
  { op: 'delete', status: 'ok' },
  { op: 'status', status: 'ok', state: 'registered', remaining: 7, wrongGuesses: 3, failingSince: 1_700_000_123_456, retryAfterMs: 60_000 },
  { op: 'status', status: 'ok', state: 'none', remaining: 0, wrongGuesses: 0, failingSince: null, retryAfterMs: 0 },
  { op: 'status', status: 'wrongRealm' },
  { op: 'none', status: 'badRequest' },
  { op: 'none', status: 'rateLimited' }
];

describe('realm API codecs', () => {
  test.each(requests.map((q, i) => [`${q.op} ${i}`, q] as const))('%s request round-trips and stays within the size bound', (_op, q) => {
    const enc = encodeRealmRequest(q);
    expect(enc.length).toBeLessThanOrEqual(MAX_REQUEST_LEN);
    expect(decodeRealmRequest(enc)).toEqual(q);
  });

  test.each(responses.map((s) => [`${s.op}/${s.status}`, s] as const))('%s response round-trips', (_name, s) => {
    const enc = encodeRealmResponse(s);
    expect(enc.length).toBeLessThanOrEqual(MAX_RESPONSE_LEN);
    expect(decodeRealmResponse(enc)).toEqual(s);
  });

  test('the record field has the fixed encoded record size', () => {
    expect(encodeRealmRecord(record)).toHaveLength(REALM_RECORD_LEN);
  });

  test('every truncation and any trailing byte is DecodeFailed; another version is UnsupportedVersion', () => {
    for (const enc of [...requests.map(encodeRealmRequest)]) {
      for (let n = 0; n < enc.length; n++) expect(codeOf(() => decodeRealmRequest(enc.subarray(0, n)))).toBe('DecodeFailed');
      expect(codeOf(() => decodeRealmRequest(new Uint8Array([...enc, 0])))).toBe('DecodeFailed');
      expect(codeOf(() => decodeRealmRequest(new Uint8Array([1, ...enc.subarray(1)])))).toBe('UnsupportedVersion');
    }
    for (const enc of responses.map(encodeRealmResponse)) {
      for (let n = 0; n < enc.length; n++) expect(codeOf(() => decodeRealmResponse(enc.subarray(0, n)))).toMatch(/DecodeFailed/);
      expect(codeOf(() => decodeRealmResponse(new Uint8Array([...enc, 0])))).toBe('DecodeFailed');
    }
  });

  test('unknown ops and statuses, and a status that does not answer its op, are DecodeFailed', () => {
    expect(codeOf(() => decodeRealmRequest(new Uint8Array([2, 9, ...bytes(48, 0)])))).toBe('DecodeFailed');
    expect(codeOf(() => decodeRealmRequest(new Uint8Array([2, 0, ...bytes(48, 0)])))).toBe('DecodeFailed');
    expect(codeOf(() => decodeRealmResponse(new Uint8Array([2, 1, 42])))).toBe('DecodeFailed');
    // register answered "wrongGuess", status answered "destroyed", evaluate answered "unauthorized",
    // submitTag answered "tooSoon".
    expect(codeOf(() => decodeRealmResponse(new Uint8Array([2, 1, 1, 5])))).toBe('DecodeFailed');
    expect(codeOf(() => decodeRealmResponse(new Uint8Array([2, 5, 2])))).toBe('DecodeFailed');
    expect(codeOf(() => decodeRealmResponse(new Uint8Array([2, 2, 4])))).toBe('DecodeFailed');
    expect(codeOf(() => decodeRealmResponse(new Uint8Array([2, 3, 9, 0, 0, 0, 1])))).toBe('DecodeFailed');
    // A user state outside none/registered/destroyed.
    expect(codeOf(() => decodeRealmResponse(new Uint8Array([2, 5, 0, 3, 0, 0, ...bytes(12, 0)])))).toBe('DecodeFailed');
    // A register request whose token flag is neither 0 nor 1.
    const reg = encodeRealmRequest(requests[0]!);
    const flagAt = 2 + 16 + 32 + 64;
    expect(reg[flagAt]).toBe(0);
    expect(codeOf(() => decodeRealmRequest(new Uint8Array([...reg.subarray(0, flagAt), 2, ...reg.subarray(flagAt + 1)])))).toBe('DecodeFailed');
  });

  test('an evaluate request with an invalid ristretto255 element is DecodeFailed', () => {
    const enc = encodeRealmRequest({ ...head, op: 'evaluate', blindedElement: bytes(32, 0) });
    expect(codeOf(() => decodeRealmRequest(enc))).toBe('DecodeFailed');
    const enc2 = encodeRealmRequest({ ...head, op: 'evaluate', blindedElement: bytes(32, 0xff) });
    expect(codeOf(() => decodeRealmRequest(enc2))).toBe('DecodeFailed');
  });

  test('a register request carrying a malformed record is refused', () => {
    const enc = encodeRealmRequest(requests[0]!);
    const badLimit = enc.slice();
    badLimit[badLimit.length - 1 - 32 - 64] = 0; // guess limit 0 (before the registration key and signature)
    expect(codeOf(() => decodeRealmRequest(badLimit))).toBe('DecodeFailed');
  });

  test('random bytes never decode to anything but a typed error or a valid message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        for (const decode of [decodeRealmRequest, decodeRealmResponse]) {
          const code = codeOf(() => decode(b));
          expect(['ok', 'DecodeFailed', 'UnsupportedVersion']).toContain(code);
        }
      }),
      { numRuns: 2000 }
    );
  });

  test('realm ids and user ids are deterministic, distinct and fixed-size', () => {
    expect(realmIdFromName('realm-a')).toEqual(realmIdFromName('realm-a'));
    expect(realmIdFromName('realm-a')).not.toEqual(realmIdFromName('realm-b'));
    expect(realmIdFromName('realm-a')).toHaveLength(16);
    expect(realmUserId('alice')).toHaveLength(32);
    expect(realmUserId('alice')).not.toEqual(realmUserId('alicf'));
    expect(codeOf(() => realmIdFromName(''))).toBe('InvalidArgument');
  });
});

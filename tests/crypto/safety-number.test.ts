import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import {
  generateIdentity,
  identityPublic,
  encodeIdentityPublic,
  type IdentityPublic
} from '../../src/lib/crypto/identity';
import {
  SAFETY_NUMBER_ITERATIONS,
  decodeQrPayload,
  fingerprint,
  formatSafetyNumber,
  qrPayload,
  safetyNumber,
  verifyQrPayload,
  type SafetyNumberInput
} from '../../src/lib/crypto/safety-number';
import { isProtocolError } from '../../src/lib/codec/errors';
import { sodium } from '../../src/lib/crypto/sodium';
import { toHex } from '../../src/lib/codec/bytes';

const VECTOR_PATH = new URL('../vectors/safety-number.json', import.meta.url);

function identityFromSeed(seed: string): IdentityPublic {
  return identityPublic(generateIdentity(seededDeps(seed)));
}

const alice = identityFromSeed('safety-number-alice');
const bob = identityFromSeed('safety-number-bob');
const mallory = identityFromSeed('safety-number-mallory');

const aliceView: SafetyNumberInput = { ourUsername: 'alice', ourIdentity: alice, theirUsername: 'bob', theirIdentity: bob };
const bobView: SafetyNumberInput = { ourUsername: 'bob', ourIdentity: bob, theirUsername: 'alice', theirIdentity: alice };

/** An independent re-implementation with Node's SHA-512, from the algorithm's description. */
function referenceHalf(username: string, id: IdentityPublic): string {
  const key = Buffer.concat([Buffer.of(0x06), id.signingKey, Buffer.of(0x05), id.dhKey]);
  const version = Buffer.of(0, 1);
  let hash = Buffer.concat([Buffer.from('Parley_SafetyNumber'), version, key, Buffer.from(username, 'utf8')]);
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = createHash('sha512').update(hash).update(key).digest();
  let digits = '';
  for (let o = 0; o < 30; o += 5) digits += String(Number(hash.readUIntBE(o, 5) % 100000)).padStart(5, '0');
  return digits;
}

function expectDecodeFailed(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(isProtocolError(e, 'DecodeFailed')).toBe(true);
    return;
  }
  throw new Error('expected DecodeFailed');
}

describe('safety numbers', () => {
  test('both sides compute the same 60 digits', () => {
    const a = safetyNumber(aliceView);
    expect(a).toMatch(/^[0-9]{60}$/);
    expect(safetyNumber(bobView)).toBe(a);
  });

  test('matches an independent SHA-512 implementation of the algorithm', () => {
    const halves = [referenceHalf('alice', alice), referenceHalf('bob', bob)].sort();
    expect(safetyNumber(aliceView)).toBe(halves.join(''));
  });

  test('P2 substituting either identity key of either party changes the number', () => {
    const base = safetyNumber(aliceView);
    // Mallory's IKs with Bob's IKd would fail the IKd signature, so rebuild a consistent identity
    // per substitution: a whole new identity, and identities sharing one of the two keys.
    const substitutions: IdentityPublic[] = [mallory];
    const s = sodium();
    const sign = (sk: Uint8Array, dh: Uint8Array) =>
      s.crypto_sign_detached(new Uint8Array([...new TextEncoder().encode('Parley_IdentityDhKey'), 0x05, ...dh]), sk);
    // Same IKs as Bob, new IKd (signed by Bob's IKs): only IKd differs.
    const bobPrivate = generateIdentity(seededDeps('safety-number-bob'));
    const newDh = s.crypto_scalarmult_base(new Uint8Array(32).fill(7));
    substitutions.push({ signingKey: bob.signingKey, dhKey: newDh, dhKeySignature: sign(bobPrivate.signing.privateKey, newDh) });
    // New IKs signing Bob's IKd: only IKs differs.
    const otherSigning = s.crypto_sign_seed_keypair(new Uint8Array(32).fill(9));
    substitutions.push({
      signingKey: otherSigning.publicKey,
      dhKey: bob.dhKey,
      dhKeySignature: sign(otherSigning.privateKey, bob.dhKey)
    });
    for (const sub of substitutions) {
      expect(safetyNumber({ ...aliceView, theirIdentity: sub })).not.toBe(base);
      expect(safetyNumber({ ...aliceView, ourIdentity: sub })).not.toBe(base);
    }
  });

  test('P4 changing either username changes the number', () => {
    const base = safetyNumber(aliceView);
    expect(safetyNumber({ ...aliceView, theirUsername: 'bob2' })).not.toBe(base);
    expect(safetyNumber({ ...aliceView, ourUsername: 'alicf' })).not.toBe(base);
  });

  test('a non-canonical username is refused rather than silently giving another number', () => {
    expect(() => safetyNumber({ ...aliceView, theirUsername: 'Bob' })).toThrow(/InvalidArgument/);
  });

  test('an identity whose IKd signature does not verify is refused', () => {
    const forged = { ...bob, dhKeySignature: bob.dhKeySignature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(() => safetyNumber({ ...aliceView, theirIdentity: forged })).toThrow(/InvalidSignature/);
  });

  test('formats as 12 groups of 5 digits', () => {
    const formatted = formatSafetyNumber(safetyNumber(aliceView));
    expect(formatted).toMatch(/^([0-9]{5} ){11}[0-9]{5}$/);
    expect(() => formatSafetyNumber('123')).toThrow(/InvalidArgument/);
  });

  test('frozen vector from seededDeps identities', () => {
    const actual = {
      source: 'frozen from seededDeps seeds safety-number-alice and safety-number-bob',
      aliceUsername: 'alice',
      aliceIdentity: toHex(encodeIdentityPublic(alice)),
      bobUsername: 'bob',
      bobIdentity: toHex(encodeIdentityPublic(bob)),
      safetyNumber: safetyNumber(aliceView),
      aliceQrPayload: qrPayload(aliceView)
    };
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(actual, null, 2) + '\n');
    const expected: unknown = JSON.parse(readFileSync(VECTOR_PATH, 'utf8'));
    expect(actual).toEqual(expected);
  });
});

describe('safety-number QR payload', () => {
  test("scanning the other side's QR matches", () => {
    expect(verifyQrPayload(qrPayload(bobView), aliceView)).toBe('match');
    expect(verifyQrPayload(qrPayload(aliceView), bobView)).toBe('match');
  });

  test("P2 a QR from a substituted key does not match", () => {
    // The host gave Alice Mallory's identity for "bob"; the real Bob's QR must not match it.
    const aliceFooled = { ...aliceView, theirIdentity: mallory };
    expect(verifyQrPayload(qrPayload(bobView), aliceFooled)).toBe('mismatch');
    // And Bob's view of Alice substituted: his QR carries the wrong recipient fingerprint.
    expect(verifyQrPayload(qrPayload({ ...bobView, theirIdentity: mallory }), aliceView)).toBe('mismatch');
  });

  test("one's own QR scanned back (a reflection) does not match", () => {
    expect(verifyQrPayload(qrPayload(aliceView), aliceView)).toBe('mismatch');
  });

  test('a payload with another version is reported as wrong-version', () => {
    const bytes = sodium().from_base64(qrPayload(bobView), sodium().base64_variants.URLSAFE_NO_PADDING);
    bytes[0] = 2;
    const other = sodium().to_base64(bytes, sodium().base64_variants.URLSAFE_NO_PADDING);
    expect(verifyQrPayload(other, aliceView)).toBe('wrong-version');
  });

  test('payload layout is version || sender fingerprint || recipient fingerprint', () => {
    const d = decodeQrPayload(qrPayload(aliceView));
    expect(d.version).toBe(1);
    expect(toHex(d.fingerprints!.sender)).toBe(toHex(fingerprint('alice', alice)));
    expect(toHex(d.fingerprints!.recipient)).toBe(toHex(fingerprint('bob', bob)));
  });

  test('garbage, truncated, padded or extended payloads fail with DecodeFailed', () => {
    const good = qrPayload(bobView);
    const v = sodium().base64_variants.URLSAFE_NO_PADDING;
    const bytes = sodium().from_base64(good, v);
    const garbage = [
      '',
      'not base64 at all!',
      good.slice(0, -4),
      good + 'AA',
      good + '=',
      ` ${good}`,
      sodium().to_base64(bytes, sodium().base64_variants.ORIGINAL),
      sodium().to_base64(bytes.slice(0, 64), v),
      sodium().to_base64(new Uint8Array([...bytes, 0]), v),
      'A'.repeat(10_000)
    ];
    for (const g of garbage) expectDecodeFailed(() => verifyQrPayload(g, aliceView));
  });
});

import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { concatBytes } from '../../src/lib/codec/bytes';
import {
  decodePreKeyMessage,
  decodeRatchetMessage,
  encodePreKeyMessage,
  encodeRatchetMessage,
  peekMessageType,
  preKeyMessageSender,
  type PreKeyMessage
} from '../../src/lib/crypto/message';

const deps = seededDeps('message-codec');
const sender = identityPublic(generateIdentity(deps));
const base: PreKeyMessage = {
  version: 1,
  senderUsername: 'alice',
  senderIdentity: sender,
  signedPreKeyId: 1,
  kemPreKeyId: 200,
  baseKey: deps.rng(32),
  kemCiphertext: deps.rng(1088),
  message: deps.rng(200)
};

describe('session envelopes', () => {
  test('PreKeyMessage round-trips with and without a one-time prekey id', () => {
    for (const m of [base, { ...base, oneTimePreKeyId: 100 }]) {
      const e = encodePreKeyMessage(m);
      expect(peekMessageType(e)).toBe('prekey');
      expect(decodePreKeyMessage(e)).toEqual(m);
      expect(preKeyMessageSender(e)).toEqual({ username: 'alice', identity: sender });
    }
  });

  test('RatchetMessage round-trips', () => {
    const e = encodeRatchetMessage(base.message);
    expect(peekMessageType(e)).toBe('ratchet');
    expect(decodeRatchetMessage(e)).toEqual(base.message);
  });

  test('strict: unknown type, wrong version, trailing bytes, truncation, bad flag', () => {
    const e = encodePreKeyMessage(base);
    expect(() => peekMessageType(Uint8Array.of(3))).toThrow(/DecodeFailed/);
    expect(() => peekMessageType(new Uint8Array(0))).toThrow(/DecodeFailed/);
    expect(() => decodeRatchetMessage(e)).toThrow(/DecodeFailed/);
    expect(() => decodePreKeyMessage(encodeRatchetMessage(base.message))).toThrow(/DecodeFailed/);
    expect(() => decodeRatchetMessage(Uint8Array.of(2))).toThrow(/DecodeFailed/);
    const v = e.slice();
    v[1] = 0;
    expect(() => decodePreKeyMessage(v)).toThrow(/UnsupportedVersion/);
    expect(() => decodePreKeyMessage(concatBytes(e, Uint8Array.of(0)))).toThrow(/DecodeFailed/);
    for (let n = 0; n < e.length; n += 101) expect(() => decodePreKeyMessage(e.subarray(0, n))).toThrow(/DecodeFailed/);
    const flagAt = 2 + 1 + 5 + 131 + 4;
    const f = e.slice();
    expect(f[flagAt]).toBe(0);
    f[flagAt] = 2;
    expect(() => decodePreKeyMessage(f)).toThrow(/DecodeFailed/);
  });
});

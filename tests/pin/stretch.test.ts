import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { sodium } from '../../src/lib/crypto/sodium';
import { PIN_ARGON2, pinSalt, realmSetId, stretchPin } from '../../src/lib/crypto/pin/stretch';
import { toHex } from '../../src/lib/codec/bytes';
import { realms } from './support';

const VECTOR_PATH = new URL('../vectors/argon2-pin.json', import.meta.url);

describe('P25 pinned KDF: Argon2id parameters live in code', () => {
  test('the parameters are exactly the pinned constants (changing them breaks every recovery)', () => {
    expect(PIN_ARGON2).toEqual({
      algorithm: 'argon2id13',
      opslimit: 4,
      memlimitBytes: 64 * 1024 * 1024,
      outputLength: 64,
      saltLength: 16
    });
    // Never below the 16 MiB floor of Signal's and Juicebox's PIN stretching.
    expect(PIN_ARGON2.memlimitBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(PIN_ARGON2.saltLength).toBe(sodium().crypto_pwhash_SALTBYTES);
  });

  // One real stretch per input below: this file is the only place the full cost is paid.
  const setId = realmSetId(realms(3).map((r) => r.id), 2);

  test('known answer for a fixed PIN and username, frozen in tests/vectors/argon2-pin.json', () => {
    const cases = [
      { pin: '1357', username: 'alice' },
      { pin: 'my secret pin', username: 'bob' }
    ].map((c) => {
      const out = stretchPin(c.pin, c.username, setId);
      return {
        ...c,
        salt: toHex(pinSalt(c.username, setId)),
        accessKey: toHex(out.accessKey),
        encryptionKeySeed: toHex(out.encryptionKeySeed)
      };
    });
    const actual = {
      source: 'frozen from stretchPin with PIN_ARGON2 (Argon2id v1.3, opslimit 4, memlimit 64 MiB, libsodium) and realms(3) of tests/pin/support.ts, threshold 2',
      realmSetId: toHex(setId),
      cases
    };
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTOR_PATH, JSON.stringify(actual, null, 2) + '\n');
    expect(actual).toEqual(JSON.parse(readFileSync(VECTOR_PATH, 'utf8')));
  });

  test('the same PIN typed with fullwidth digits and spaces stretches to the same keys', () => {
    const a = stretchPin('１３５７ ', 'alice', setId);
    const expected: { cases: { accessKey: string }[] } = JSON.parse(readFileSync(VECTOR_PATH, 'utf8'));
    expect(toHex(a.accessKey)).toBe(expected.cases[0]!.accessKey);
  });

  test('the salt separates usernames and realm sets', () => {
    const other = realmSetId(realms(3).map((r) => r.id), 3);
    expect(toHex(pinSalt('alice', setId))).not.toBe(toHex(pinSalt('bob', setId)));
    expect(toHex(pinSalt('alice', setId))).not.toBe(toHex(pinSalt('alice', other)));
    expect(() => pinSalt('', setId)).toThrow(/InvalidArgument/);
  });
});

// The pairwise group update (src/lib/wire/group-content.ts): the key request a restored member
// sends (flag 0x10, P21: the others give their sender key again with their next group message)
// round-trips alone and beside a distribution; the seal key of sealed sender v3 (flag 0x20,
// P41) travels only with a distribution; flags this version does not know are refused; extensions
// a later build adds (flag 0x40) are skipped unless marked critical, so the key beside them is kept.
import { describe, expect, test } from 'vitest';
import { MAX_EXTENSION_BYTES, decodeGroupUpdate, encodeGroupUpdate, type GroupUpdate } from '../../src/lib/wire/group-content';
import { codeOf } from '../support/code-of';

const groupId = new Uint8Array(32).fill(7);

describe('group update', () => {
  test('P21 a key request round-trips alone and with our new distribution', () => {
    expect(decodeGroupUpdate(encodeGroupUpdate({ groupId, keyRequest: true }))).toEqual({ groupId, keyRequest: true });
    const distribution = new Uint8Array(90).fill(3);
    expect(decodeGroupUpdate(encodeGroupUpdate({ groupId, distribution, keyRequest: true }))).toEqual({ groupId, distribution, keyRequest: true });
    // Without the flag, nothing asks for keys.
    expect(decodeGroupUpdate(encodeGroupUpdate({ groupId, distribution })).keyRequest).toBeUndefined();
  });

  test('an unknown flag is UnsupportedVersion; an empty update is refused', () => {
    const bytes = encodeGroupUpdate({ groupId, keyRequest: true });
    const unknown = bytes.slice();
    unknown[33] = 0x80 | 0x10;
    expect(codeOf(() => decodeGroupUpdate(unknown))).toBe('UnsupportedVersion');
    const empty = bytes.slice();
    empty[33] = 0;
    expect(codeOf(() => decodeGroupUpdate(empty))).toBe('DecodeFailed');
    expect(codeOf(() => encodeGroupUpdate({ groupId }))).toBe('InvalidArgument');
  });

  test('P41 a seal key round-trips with a distribution, is refused without one, and must be 32 bytes', () => {
    const distribution = new Uint8Array(90).fill(3);
    const sealKey = new Uint8Array(32).fill(9);
    expect(decodeGroupUpdate(encodeGroupUpdate({ groupId, distribution, sealKey, keyRequest: true }))).toEqual({ groupId, distribution, sealKey, keyRequest: true });
    expect(codeOf(() => encodeGroupUpdate({ groupId, keyRequest: true, sealKey }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeGroupUpdate({ groupId, distribution, sealKey: new Uint8Array(31) }))).toBe('InvalidArgument');
    // A seal-key flag on an update that carries no distribution (0x10 | 0x20): DecodeFailed.
    const bytes = encodeGroupUpdate({ groupId, keyRequest: true });
    const lone = new Uint8Array([...bytes.slice(0, 33), 0x30, ...sealKey]);
    expect(codeOf(() => decodeGroupUpdate(lone))).toBe('DecodeFailed');
    // Cut short: the 32 bytes are not all there.
    const whole = encodeGroupUpdate({ groupId, distribution, sealKey });
    expect(codeOf(() => decodeGroupUpdate(whole.subarray(0, whole.length - 1)))).toBe('DecodeFailed');
  });

  /** `u` as this build encodes it, with flag 0x40 and `ext` (raw extension bytes) appended. */
  function withExtensions(u: GroupUpdate, ext: Uint8Array, declared = ext.length): Uint8Array {
    const bytes = encodeGroupUpdate(u);
    const out = new Uint8Array([...bytes, declared >> 8, declared & 0xff, ...ext]);
    out[33]! |= 0x40;
    return out;
  }
  const entry = (type: number, value: number[]) => [type, value.length >> 8, value.length & 0xff, ...value];

  test('P21 P41 extensions a later build adds are skipped: the distribution and seal key beside them are kept', () => {
    const u: GroupUpdate = { groupId, distribution: new Uint8Array(90).fill(3), sealKey: new Uint8Array(32).fill(9) };
    const ext = new Uint8Array([...entry(0x01, [0, 0, 0, 5]), ...entry(0x7f, []), ...entry(0x22, new Array(300).fill(1))]);
    expect(decodeGroupUpdate(withExtensions(u, ext))).toEqual(u);
    // An empty extensions field is well formed too.
    expect(decodeGroupUpdate(withExtensions({ groupId, keyRequest: true }, new Uint8Array(0)))).toEqual({ groupId, keyRequest: true });
  });

  test('a critical extension (type 0x80 and up) this build does not know refuses the update: UnsupportedVersion', () => {
    const u: GroupUpdate = { groupId, distribution: new Uint8Array(90).fill(3) };
    for (const type of [0x80, 0xc3, 0xff]) {
      expect(codeOf(() => decodeGroupUpdate(withExtensions(u, new Uint8Array([...entry(0x01, [1]), ...entry(type, [2])])))), `type ${type}`).toBe('UnsupportedVersion');
    }
  });

  test('P12 malformed extensions are DecodeFailed: a value past the field, a short header, a field past the update, too large, trailing bytes', () => {
    const u: GroupUpdate = { groupId, keyRequest: true };
    expect(codeOf(() => decodeGroupUpdate(withExtensions(u, new Uint8Array([0x01, 0, 5, 1, 2]))))).toBe('DecodeFailed');
    expect(codeOf(() => decodeGroupUpdate(withExtensions(u, new Uint8Array([0x01, 0]))))).toBe('DecodeFailed');
    expect(codeOf(() => decodeGroupUpdate(withExtensions(u, new Uint8Array(entry(1, [1])), 10)))).toBe('DecodeFailed');
    const big = new Uint8Array(entry(0x01, new Array(MAX_EXTENSION_BYTES - 2).fill(0)));
    expect(big.length).toBe(MAX_EXTENSION_BYTES + 1);
    expect(codeOf(() => decodeGroupUpdate(withExtensions(u, big)))).toBe('DecodeFailed');
    expect(decodeGroupUpdate(withExtensions(u, big.subarray(0, MAX_EXTENSION_BYTES).map((b, i) => (i === 2 ? b - 1 : b))))).toEqual(u);
    expect(codeOf(() => decodeGroupUpdate(new Uint8Array([...withExtensions(u, new Uint8Array(0)), 0])))).toBe('DecodeFailed');
  });
});

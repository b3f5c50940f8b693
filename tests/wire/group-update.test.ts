// The pairwise group update (src/lib/wire/group-content.ts): the key request a restored member
// sends (flag 0x10, P21: the others give their sender key again with their next group message)
// round-trips alone and beside a distribution; the seal key of sealed sender v3 (flag 0x20,
// P41) travels only with a distribution; flags this version does not know are refused.
import { describe, expect, test } from 'vitest';
import { decodeGroupUpdate, encodeGroupUpdate } from '../../src/lib/wire/group-content';
import { isProtocolError } from '../../src/lib/codec/errors';

const groupId = new Uint8Array(32).fill(7);

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
};

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
    unknown[33] = 0x40;
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
});

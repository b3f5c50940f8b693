// The pairwise group update (src/lib/wire/group-content.ts): the key request a restored member
// sends (flag 0x10, P21: the others give their sender key again with their next group message)
// round-trips alone and beside a distribution; flags this version does not know are refused.
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
    unknown[33] = 0x20;
    expect(codeOf(() => decodeGroupUpdate(unknown))).toBe('UnsupportedVersion');
    const empty = bytes.slice();
    empty[33] = 0;
    expect(codeOf(() => decodeGroupUpdate(empty))).toBe('DecodeFailed');
    expect(codeOf(() => encodeGroupUpdate({ groupId }))).toBe('InvalidArgument');
  });
});

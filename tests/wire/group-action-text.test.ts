/**
 * Group text version 3 (wire/group-content.ts; README "Groups": message actions, P47): a reply or
 * reaction in a group names its target's author beside the 1:1 content kinds, strictly.
 */
import { describe, expect, test } from 'vitest';
import { decodeGroupText, encodeGroupText } from '../../src/lib/wire/group-content';
import { decodeContent, encodeContent } from '../../src/lib/wire/content';
import type { Username } from '../../src/lib/codec/username';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};
const base = { headVersion: 7, headHash: new Uint8Array(32).fill(2), content: encodeContent({ kind: 'reaction', target: 'ab'.repeat(16), emoji: '👍' }) };

describe('group text with a target author (version 3)', () => {
  test('P47 a target author round-trips as version 3, with or without mentions; versions 1 and 2 are unchanged', () => {
    const bytes = encodeGroupText({ ...base, targetAuthor: 'cat' as Username });
    expect(bytes[0]).toBe(3);
    const back = decodeGroupText(bytes);
    expect(back).toEqual({ ...base, targetAuthor: 'cat' });
    expect(decodeContent(back.content)).toEqual({ kind: 'reaction', target: 'ab'.repeat(16), emoji: '👍' });
    const both = { ...base, mentions: ['ben'] as Username[], targetAuthor: 'ann' as Username };
    expect(decodeGroupText(encodeGroupText(both))).toEqual(both);
    expect(encodeGroupText(base)[0]).toBe(1);
    expect(encodeGroupText({ ...base, mentions: ['ben'] as Username[] })[0]).toBe(2);
  });

  test('P47 a missing, non-canonical or trailing target author is refused', () => {
    const bytes = encodeGroupText({ ...base, targetAuthor: 'cat' as Username });
    expect(codeOf(() => decodeGroupText(bytes.slice(0, -4)))).toBe('DecodeFailed');
    const upper = bytes.slice();
    upper[upper.length - 1] = 'T'.charCodeAt(0);
    expect(codeOf(() => decodeGroupText(upper))).toBe('DecodeFailed');
    expect(codeOf(() => decodeGroupText(new Uint8Array([...bytes, 0])))).toBe('DecodeFailed');
    expect(codeOf(() => encodeGroupText({ ...base, targetAuthor: 'Cat' as Username }))).toBe('InvalidArgument');
    // Version 2 still needs at least one mention: a zero count is only valid in version 3.
    const v2 = encodeGroupText({ ...base, mentions: ['ben'] as Username[] });
    const zero = v2.slice(0, v2.length - 4);
    zero[zero.length - 1] = 0;
    expect(codeOf(() => decodeGroupText(zero))).toBe('DecodeFailed');
  });
});

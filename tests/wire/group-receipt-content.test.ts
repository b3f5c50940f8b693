// Group receipts (content kind 0x15, src/lib/wire/group-receipt-content.ts) and mentions in a
// group text (version 2, src/lib/wire/group-content.ts): strict round trips; bounded counts as
// the 1:1 receipt kind; malformed usernames and counts refused.
import { describe, expect, test } from 'vitest';
import { ContentKind, decodeContent, encodeContent, MAX_RECEIPT_IDS } from '../../src/lib/wire/content';
import { decodeGroupText, encodeGroupText, MAX_MENTIONS } from '../../src/lib/wire/group-content';
import type { Username } from '../../src/lib/codec/username';
import { codeOf } from '../support/code-of';

const groupId = 'ab'.repeat(32);
const id = (i: number) => i.toString(16).padStart(32, '0');

describe('group receipt content', () => {
  test('P41 round-trips as kind 0x15 with the group id, type and ids', () => {
    const c = { kind: 'groupReceipt' as const, groupId, receipt: 'read' as const, ids: [id(1), id(2)] };
    const bytes = encodeContent(c);
    expect(bytes[1]).toBe(ContentKind.groupReceipt);
    expect(bytes[1]).toBe(0x15);
    expect(decodeContent(bytes)).toEqual(c);
    expect(decodeContent(encodeContent({ ...c, receipt: 'delivered' }))).toEqual({ ...c, receipt: 'delivered' });
  });

  test('counts bounded as 1:1 receipts; unknown type, trailing bytes and bad ids refused', () => {
    const ok = { kind: 'groupReceipt' as const, groupId, receipt: 'read' as const, ids: [id(1)] };
    expect(codeOf(() => encodeContent({ ...ok, ids: [] }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeContent({ ...ok, ids: Array.from({ length: MAX_RECEIPT_IDS + 1 }, (_, i) => id(i)) }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeContent({ ...ok, ids: Array.from({ length: MAX_RECEIPT_IDS }, (_, i) => id(i)) }))).toBe('ok');
    expect(codeOf(() => encodeContent({ ...ok, groupId: 'ab' }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeContent({ ...ok, ids: ['XYZ'] }))).toBe('InvalidArgument');
    const bytes = encodeContent(ok);
    const badType = bytes.slice();
    badType[2 + 32] = 3;
    expect(codeOf(() => decodeContent(badType))).toBe('DecodeFailed');
    const zero = bytes.slice();
    zero[2 + 33] = 0;
    zero[2 + 34] = 0;
    expect(codeOf(() => decodeContent(zero))).toBe('DecodeFailed');
    const trailing = new Uint8Array([...bytes, 0]);
    expect(codeOf(() => decodeContent(trailing))).toBe('DecodeFailed');
  });
});

describe('group text mentions', () => {
  const base = { headVersion: 3, headHash: new Uint8Array(32).fill(1), content: new Uint8Array([1, 2, 3]) };

  test('no mentions stays version 1; mentions round-trip as version 2', () => {
    expect(encodeGroupText(base)[0]).toBe(1);
    expect(decodeGroupText(encodeGroupText(base))).toEqual(base);
    const withMentions = { ...base, mentions: ['ben', 'cat.x'] as Username[] };
    const bytes = encodeGroupText(withMentions);
    expect(bytes[0]).toBe(2);
    expect(decodeGroupText(bytes)).toEqual(withMentions);
  });

  test('too many mentions or a non-canonical username are refused', () => {
    const many = Array.from({ length: MAX_MENTIONS + 1 }, (_, i) => `user${i}`) as Username[];
    expect(codeOf(() => encodeGroupText({ ...base, mentions: many }))).toBe('InvalidArgument');
    expect(codeOf(() => encodeGroupText({ ...base, mentions: ['Ben'] as Username[] }))).toBe('InvalidArgument');
    const bytes = encodeGroupText({ ...base, mentions: ['ben'] as Username[] });
    const upper = bytes.slice();
    upper[upper.length - 3] = 'B'.charCodeAt(0);
    expect(codeOf(() => decodeGroupText(upper))).toBe('DecodeFailed');
    const zero = bytes.slice();
    zero[zero.length - 5] = 0;
    expect(codeOf(() => decodeGroupText(zero))).toBe('DecodeFailed');
  });
});

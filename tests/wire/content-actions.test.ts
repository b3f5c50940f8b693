/**
 * Message actions inside the ratchet (src/lib/wire/content.ts kinds 0x0A..0x0E): reactions, edits,
 * deletes for everyone and replies round-trip exactly, are bounded (one emoji of at most 32 bytes;
 * an edit no longer than a text) and decode strictly: malformed input is a clear ProtocolError.
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { ContentKind, decodeContent, encodeContent, isOneEmoji, MAX_TEXT_BYTES, type Content } from '../../src/lib/wire/content';

const ID = '0123456789abcdef0123456789abcdef';
const TARGET = 'fedcba9876543210fedcba9876543210';
const KEY = new Uint8Array(32).map((_, i) => i + 1);

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('message actions content', () => {
  test.each<[string, Content, number]>([
    ['reaction', { kind: 'reaction', target: TARGET, emoji: '👍' }, ContentKind.reaction],
    ['reaction with skin tone', { kind: 'reaction', target: TARGET, emoji: '👍🏽' }, ContentKind.reaction],
    ['family reaction', { kind: 'reaction', target: TARGET, emoji: '👨‍👩‍👧‍👦' }, ContentKind.reaction],
    ['flag reaction', { kind: 'reaction', target: TARGET, emoji: '🇫🇷' }, ContentKind.reaction],
    ['reaction taken back', { kind: 'reaction', target: TARGET, emoji: '' }, ContentKind.reaction],
    ['edit', { kind: 'edit', target: TARGET, sentAt: 99, text: 'fixed typo' }, ContentKind.edit],
    ['delete for everyone', { kind: 'delete', target: TARGET }, ContentKind.delete],
    ['delete for everyone of a withdrawn encryption', { kind: 'delete', target: TARGET, withdrawn: { ratchetKey: new Uint8Array(32).fill(9), n: 70_000 } }, ContentKind.delete],
    ['reply', { kind: 'text', id: ID, sentAt: 5, text: 'yes', quote: TARGET }, ContentKind.textWithQuote],
    ['reply with profile key', { kind: 'text', id: ID, sentAt: 5, text: 'yes', quote: TARGET, profileKey: KEY }, ContentKind.textWithQuoteAndProfileKey]
  ])('%s round-trips with its kind byte', (_name, content, kind) => {
    const enc = encodeContent(content);
    expect(enc[1]).toBe(kind);
    expect(decodeContent(enc)).toEqual(content);
  });

  test('a reaction is exactly one emoji grapheme of at most 32 bytes', () => {
    expect(isOneEmoji('❤️')).toBe(true);
    expect(isOneEmoji('1️⃣')).toBe(true);
    for (const bad of ['👍👍', 'a', 'ab', '👍a', '<b>', ' ']) {
      expect(isOneEmoji(bad)).toBe(false);
      expect(() => encodeContent({ kind: 'reaction', target: TARGET, emoji: bad })).toThrow(/not one emoji/);
    }
    // One grapheme, but longer than the bound: 👨‍👩‍👧‍👦 with four skin tones is 41 bytes.
    const long = '👨🏻‍👩🏻‍👧🏻‍👦🏻';
    expect(new TextEncoder().encode(long).length).toBeGreaterThan(32);
    expect(() => encodeContent({ kind: 'reaction', target: TARGET, emoji: long })).toThrow(/exceeds 32/);
  });

  test('malformed reactions are DecodeFailed, never a silent drop', () => {
    const enc = encodeContent({ kind: 'reaction', target: TARGET, emoji: '👍' });
    // Declared length beyond the bound.
    const big = enc.slice();
    big[18] = 33;
    expect(code(() => decodeContent(big))).toBe('DecodeFailed');
    // Truncated, trailing bytes, two emoji, plain letters, invalid UTF-8.
    expect(code(() => decodeContent(enc.slice(0, -1)))).toBe('DecodeFailed');
    expect(code(() => decodeContent(new Uint8Array([...enc, 0])))).toBe('DecodeFailed');
    const head = enc.slice(0, 18);
    const withEmoji = (b: number[]) => new Uint8Array([...head, b.length, ...b]);
    expect(code(() => decodeContent(withEmoji([...new TextEncoder().encode('👍👍')])))).toBe('DecodeFailed');
    expect(code(() => decodeContent(withEmoji([0x61])))).toBe('DecodeFailed');
    expect(code(() => decodeContent(withEmoji([0xff, 0xfe])))).toBe('DecodeFailed');
  });

  test('an edit is bounded like a text and is never empty', () => {
    const max = 'x'.repeat(MAX_TEXT_BYTES);
    expect(decodeContent(encodeContent({ kind: 'edit', target: TARGET, sentAt: 1, text: max }))).toMatchObject({ text: max });
    expect(() => encodeContent({ kind: 'edit', target: TARGET, sentAt: 1, text: max + 'x' })).toThrow(/exceeds/);
    expect(() => encodeContent({ kind: 'edit', target: TARGET, sentAt: 1, text: '' })).toThrow(/empty/);
    const empty = new Uint8Array([1, ContentKind.edit, ...new Uint8Array(16), ...new Uint8Array(8), 0, 0, 0, 0]);
    expect(code(() => decodeContent(empty))).toBe('DecodeFailed');
    const huge = new Uint8Array([1, ContentKind.edit, ...new Uint8Array(16), ...new Uint8Array(8), 0, 1, 0, 1]);
    expect(code(() => decodeContent(huge))).toBe('DecodeFailed');
  });

  test('targets are 16-byte ids: a short id, a bad hex id and trailing bytes are refused', () => {
    expect(() => encodeContent({ kind: 'delete', target: 'abc' })).toThrow(/32 hex digits/);
    expect(() => encodeContent({ kind: 'reaction', target: TARGET.toUpperCase(), emoji: '👍' })).toThrow(/32 hex digits/);
    const del = encodeContent({ kind: 'delete', target: TARGET });
    expect(code(() => decodeContent(del.slice(0, -1)))).toBe('DecodeFailed');
    expect(code(() => decodeContent(new Uint8Array([...del, 7])))).toBe('DecodeFailed');
    // A withdrawn ref is whole (32-byte key, u32 n) and last.
    const withdrawn = encodeContent({ kind: 'delete', target: TARGET, withdrawn: { ratchetKey: new Uint8Array(32).fill(9), n: 3 } });
    expect(withdrawn.length).toBe(del.length + 36);
    expect(code(() => decodeContent(withdrawn.slice(0, -1)))).toBe('DecodeFailed');
    expect(code(() => decodeContent(new Uint8Array([...withdrawn, 0])))).toBe('DecodeFailed');
    const reply = encodeContent({ kind: 'text', id: ID, sentAt: 5, text: 'yes', quote: TARGET });
    expect(code(() => decodeContent(reply.slice(0, 10)))).toBe('DecodeFailed');
  });

  test('a kind after the ones we know is UnsupportedVersion', () => {
    expect(code(() => decodeContent(new Uint8Array([1, 0x0f])))).toBe('UnsupportedVersion');
  });
});

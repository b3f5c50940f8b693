/**
 * Typing notices inside the ratchet (src/lib/wire/content.ts kind 0x14, wire/typing-content.ts):
 * they round-trip exactly, decode strictly (a malformed one is a clear ProtocolError), and pad to
 * the same size as a read receipt and a short text, so sealed the host cannot tell them apart (P41).
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { pad } from '../../src/lib/codec/padding';
import { ContentKind, decodeContent, encodeContent, type Content } from '../../src/lib/wire/content';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('typing content', () => {
  test.each<Content>([
    { kind: 'typing', typing: true, sentAt: 1_700_000_000_123 },
    { kind: 'typing', typing: false, sentAt: 0 }
  ])('round-trips %o as kind 0x14', (c) => {
    const bytes = encodeContent(c);
    expect(bytes[1]).toBe(ContentKind.typing);
    expect(bytes).toHaveLength(2 + 1 + 8);
    expect(decodeContent(bytes)).toEqual(c);
  });

  test('malformed typing notices are refused with DecodeFailed, never read as something else', () => {
    const good = encodeContent({ kind: 'typing', typing: true, sentAt: 5 });
    expect(code(() => decodeContent(Uint8Array.from([...good, 0])))).toBe('DecodeFailed');
    expect(code(() => decodeContent(good.subarray(0, good.length - 1)))).toBe('DecodeFailed');
    const badAction = good.slice();
    badAction[2] = 3;
    expect(code(() => decodeContent(badAction))).toBe('DecodeFailed');
    badAction[2] = 0;
    expect(code(() => decodeContent(badAction))).toBe('DecodeFailed');
    expect(code(() => encodeContent({ kind: 'typing', typing: true, sentAt: -1 }))).toBe('InvalidArgument');
  });

  test('P41 padded for the ratchet, a typing notice is exactly as long as a read receipt and a short text', () => {
    const typing = encodeContent({ kind: 'typing', typing: true, sentAt: Date.now() });
    const receipt = encodeContent({ kind: 'receipt', receipt: 'read', ids: ['0123456789abcdef0123456789abcdef'] });
    const text = encodeContent({ kind: 'text', id: '0123456789abcdef0123456789abcdef', sentAt: Date.now(), text: 'ok, see you at 6' });
    expect(pad(typing).length).toBe(pad(receipt).length);
    expect(pad(typing).length).toBe(pad(text).length);
  });
});

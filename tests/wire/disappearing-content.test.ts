/**
 * Disappearing messages on the wire (src/lib/wire/disappearing-content.ts, content kinds 0x11,
 * 0x12 and 0x13; SECURITY.md P44): the timer change and the timer setting each message carries round-trip exactly,
 * and bad input — a timer outside the list, an expiring wrapper around anything but a text or a
 * file, a wrapper in a wrapper, truncation — is a clear ProtocolError that leaves the input as it was.
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { ContentKind, decodeContent, encodeContent, type Content } from '../../src/lib/wire/content';
import { TIMER_SECONDS } from '../../src/lib/wire/disappearing-content';

const ID = '0123456789abcdef0123456789abcdef';
const QUOTE = 'fedcba9876543210fedcba9876543210';
const KEY = new Uint8Array(32).map((_, i) => i + 1);

function error(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  return { code: 'no error', message: '' };
}

/** version 1 || kind 0x11 || seconds u32 || setAt u64 */
function rawTimer(seconds: number, setAt = 1000): Uint8Array {
  const b = new Uint8Array(14);
  const v = new DataView(b.buffer);
  b[0] = 1;
  b[1] = ContentKind.timer;
  v.setUint32(2, seconds);
  v.setUint32(6, Math.floor(setAt / 2 ** 32));
  v.setUint32(10, setAt >>> 0);
  return b;
}

describe('P44 disappearing content', () => {
  test.each(TIMER_SECONDS.map((s) => [s]))('P44 a timer change of %i seconds round-trips with its kind byte', (seconds) => {
    const c: Content = { kind: 'timer', seconds, setAt: 1_700_000_000_123 };
    const enc = encodeContent(c);
    expect(enc[1]).toBe(ContentKind.timer);
    expect(decodeContent(enc)).toEqual(c);
  });

  test.each<[string, Content]>([
    ['text', { kind: 'text', id: ID, sentAt: 5, text: 'gone soon', expireTimer: 300 }],
    ['text with profile key', { kind: 'text', id: ID, sentAt: 5, text: 'gone soon', profileKey: KEY, expireTimer: 3600 }],
    ['reply', { kind: 'text', id: ID, sentAt: 5, text: 'yes', quote: QUOTE, expireTimer: 86_400 }],
    ['reply with profile key', { kind: 'text', id: ID, sentAt: 5, text: 'yes', quote: QUOTE, profileKey: KEY, expireTimer: 2_419_200 }]
  ])('P44 a %s sent under a timer carries it (kind 0x12) and round-trips', (_name, c) => {
    const enc = encodeContent(c);
    expect(enc[1]).toBe(ContentKind.expiring);
    expect(decodeContent(enc)).toEqual(c);
  });

  test('P44 a text with the timer off is a plain text: no wrapper, no timer', () => {
    const enc = encodeContent({ kind: 'text', id: ID, sentAt: 5, text: 'stays', expireTimer: 0 });
    expect(enc[1]).toBe(ContentKind.text);
    expect(decodeContent(enc)).toEqual({ kind: 'text', id: ID, sentAt: 5, text: 'stays' });
  });

  test.each([1, 60, 299, 301, 7200, 0xffff_ffff])('P44 an unknown timer of %i seconds is refused clearly and the input is left as it was', (seconds) => {
    const bytes = rawTimer(seconds);
    const copy = bytes.slice();
    const e = error(() => decodeContent(bytes));
    expect(e.code).toBe('DecodeFailed');
    expect(e.message).toContain(`${seconds} seconds`);
    expect(bytes).toEqual(copy);
    // Writing one is refused too, before any byte is produced.
    expect(error(() => encodeContent({ kind: 'timer', seconds: seconds as 300, setAt: 1 })).code).toBe('InvalidArgument');
    expect(error(() => encodeContent({ kind: 'text', id: ID, sentAt: 1, text: 'x', expireTimer: seconds as 300 })).code).toBe('InvalidArgument');
  });

  test('P44 an expiring message with an unknown timer, the timer off, or around anything but a text or file is refused', () => {
    const text = encodeContent({ kind: 'text', id: ID, sentAt: 5, text: 'hi' });
    const wrap = (seconds: number, inner: Uint8Array) => {
      const b = new Uint8Array(6 + inner.length - 1);
      b[0] = 1;
      b[1] = ContentKind.expiring;
      new DataView(b.buffer).setUint32(2, seconds);
      b.set(inner.subarray(1), 6);
      return b;
    };
    expect(decodeContent(wrap(300, text))).toEqual({ kind: 'text', id: ID, sentAt: 5, text: 'hi', expireTimer: 300 });
    expect(error(() => decodeContent(wrap(301, text)))).toMatchObject({ code: 'DecodeFailed' });
    expect(error(() => decodeContent(wrap(0, text)))).toMatchObject({ code: 'DecodeFailed' });
    const receipt = encodeContent({ kind: 'receipt', receipt: 'read', ids: [ID] });
    expect(error(() => decodeContent(wrap(300, receipt))).message).toContain('kind 2');
    const timer = encodeContent({ kind: 'timer', seconds: 300, setAt: 1 });
    expect(error(() => decodeContent(wrap(300, timer))).code).toBe('DecodeFailed');
    const nested = wrap(300, wrap(300, text));
    expect(error(() => decodeContent(nested)).message).toContain(`kind ${ContentKind.expiring}`);
    expect(error(() => decodeContent(wrap(300, text).subarray(0, 9))).code).toBe('DecodeFailed');
  });

  test.each<[string, Content]>([
    ['text under a timer', { kind: 'text', id: ID, sentAt: 5, text: 'gone soon', expireTimer: 300, timerSetAt: 1_700_000_000_123 }],
    ['text with the timer turned off', { kind: 'text', id: ID, sentAt: 5, text: 'stays', timerSetAt: 1_700_000_000_999 }],
    ['reply with profile key', { kind: 'text', id: ID, sentAt: 5, text: 'yes', quote: QUOTE, profileKey: KEY, expireTimer: 3600, timerSetAt: 2 ** 52 }],
    ['file', { kind: 'attachment', id: ID, sentAt: 5, blobId: 'ab'.repeat(16), key: KEY, digest: KEY, size: 1000, mime: 'application/pdf', name: 'a.pdf', expireTimer: 86_400, timerSetAt: 7 }]
  ])('P44 a %s carries the setting and when it was made (kind 0x13) and round-trips', (_name, c) => {
    const enc = encodeContent(c);
    expect(enc[1]).toBe(ContentKind.timed);
    expect(decodeContent(enc)).toEqual(c);
  });

  test('P44 a timed message with an unknown timer, a setAt past 2^53, around anything but a text or file, or cut short is refused', () => {
    const text = encodeContent({ kind: 'text', id: ID, sentAt: 5, text: 'hi' });
    const wrap = (seconds: number, hi: number, lo: number, inner: Uint8Array) => {
      const b = new Uint8Array(14 + inner.length - 1);
      const v = new DataView(b.buffer);
      b[0] = 1;
      b[1] = ContentKind.timed;
      v.setUint32(2, seconds);
      v.setUint32(6, hi);
      v.setUint32(10, lo);
      b.set(inner.subarray(1), 14);
      return b;
    };
    expect(decodeContent(wrap(0, 0, 42, text))).toEqual({ kind: 'text', id: ID, sentAt: 5, text: 'hi', timerSetAt: 42 });
    expect(error(() => decodeContent(wrap(301, 0, 42, text)))).toMatchObject({ code: 'DecodeFailed' });
    expect(error(() => decodeContent(wrap(300, 2 ** 21, 0, text))).message).toContain('2^53');
    const receipt = encodeContent({ kind: 'receipt', receipt: 'read', ids: [ID] });
    expect(error(() => decodeContent(wrap(300, 0, 1, receipt))).message).toContain('kind 2');
    const nested = wrap(300, 0, 1, wrap(300, 0, 1, text));
    expect(error(() => decodeContent(nested)).message).toContain(`kind ${ContentKind.timed}`);
    expect(error(() => decodeContent(wrap(300, 0, 1, text).subarray(0, 12))).code).toBe('DecodeFailed');
    expect(error(() => encodeContent({ kind: 'text', id: ID, sentAt: 1, text: 'x', timerSetAt: -1 })).code).toBe('InvalidArgument');
  });

  test('P44 a truncated or padded timer change is refused', () => {
    const ok = rawTimer(300);
    expect(error(() => decodeContent(ok.subarray(0, 13))).code).toBe('DecodeFailed');
    const long = new Uint8Array(15);
    long.set(ok);
    expect(error(() => decodeContent(long)).code).toBe('DecodeFailed');
  });
});

/**
 * P31 message text as shown (src/lib/ui/message-text.ts): only http(s) addresses become links,
 * hostile text stays text and every character of the input is kept; a few emoji alone are enlarged.
 */
import { describe, expect, test } from 'vitest';
import { isEmojiOnly, linkify, safeHref } from '../../src/lib/ui/message-text';

const joined = (t: string) => linkify(t).map((s) => s.text).join('');
const links = (t: string) => linkify(t).flatMap((s) => (s.href ? [s.href] : []));

describe('message text', () => {
  test('http and https addresses become links; trailing punctuation stays text', () => {
    const t = 'see https://example.org/a?b=1#c, and http://example.com/x_(y). Done!';
    expect(links(t)).toEqual(['https://example.org/a?b=1#c', 'http://example.com/x_(y)']);
    expect(joined(t)).toBe(t);
  });

  test('P31 javascript:, data:, bare domains and markup are never links and survive as text', () => {
    for (const t of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'www.example.org',
      '<a href="javascript:alert(1)">x</a>',
      '<img src=x onerror=alert(1)>',
      'https://',
      'vbscript:msgbox(1)'
    ]) {
      expect(links(t)).toEqual([]);
      expect(joined(t)).toBe(t);
    }
    expect(safeHref('javascript://example.org/%0aalert(1)')).toBeUndefined();
    // A quote or angle bracket ends the address: it can never break out of the attribute.
    expect(links('https://x.org/"onmouseover="alert(1)')).toEqual(['https://x.org/']);
    expect(links('https://x.org/<script>')).toEqual(['https://x.org/']);
  });

  test('emoji-only texts of one to three emoji are enlarged, nothing else', () => {
    for (const t of ['👍', '❤️', ' 🎉🎉 ', '👨‍👩‍👧‍👦', '🇫🇷🇩🇪', '1️⃣']) expect(isEmojiOnly(t)).toBe(true);
    for (const t of ['', ' ', 'ok 👍', '👍👍👍👍', '1', '#', 'a', '☺x']) expect(isEmojiOnly(t)).toBe(false);
  });
});

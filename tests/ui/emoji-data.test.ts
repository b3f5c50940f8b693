/**
 * The emoji picker's bundled set and its search (src/lib/ui/emoji/emoji-data.ts, emoji-search.ts):
 * every entry is something the message rules accept — one emoji grapheme a reaction may carry
 * (src/lib/wire/content.ts, P47) and a text that is shown enlarged when sent alone — with a name
 * for screen readers; search finds by name and keyword, best first.
 */
import { describe, expect, test } from 'vitest';
import { ALL_EMOJI, CATEGORIES, emojiEntry, flagOf } from '../../src/lib/ui/emoji/emoji-data';
import { searchEmoji } from '../../src/lib/ui/emoji/emoji-search';
import { encodeContent, isOneEmoji } from '../../src/lib/wire/content';
import { isEmojiOnly } from '../../src/lib/ui/message-text';

const found = (q: string) => searchEmoji(q).map((e) => e.emoji);

describe('emoji set', () => {
  test('nine categories of a few hundred emoji, none twice', () => {
    expect(CATEGORIES.map((c) => c.id)).toEqual(['smileys', 'people', 'nature', 'food', 'activities', 'travel', 'objects', 'symbols', 'flags']);
    expect(ALL_EMOJI.length).toBeGreaterThan(300);
    expect(ALL_EMOJI.length).toBeLessThan(1000);
    expect(new Set(ALL_EMOJI.map((e) => e.emoji)).size).toBe(ALL_EMOJI.length);
    for (const c of CATEGORIES) expect(c.emoji.length, c.id).toBeGreaterThan(20);
  });

  test('P47 every entry is one emoji a reaction can carry, and enlarges when sent alone', () => {
    for (const e of ALL_EMOJI) {
      expect(isOneEmoji(e.emoji), `${e.name} ${JSON.stringify(e.emoji)}`).toBe(true);
      expect(isEmojiOnly(e.emoji), e.name).toBe(true);
      expect(isEmojiOnly(e.emoji.repeat(3)), e.name).toBe(true);
      expect(() => encodeContent({ kind: 'reaction', target: '00'.repeat(16), emoji: e.emoji }), e.name).not.toThrow();
    }
  });

  test('every entry has a name and words to search by', () => {
    for (const e of ALL_EMOJI) {
      expect(e.name.trim(), e.emoji).not.toBe('');
      expect(e.name, e.emoji).not.toMatch(/\|/);
      expect(e.words.length, e.name).toBeGreaterThan(0);
      for (const w of e.words) expect(w, e.name).toBe(w.toLowerCase());
    }
    expect(emojiEntry('👍')?.name).toBe('thumbs up');
    expect(emojiEntry('❤️')?.name).toBe('red heart');
    expect(emojiEntry('x')).toBeUndefined();
  });

  test('country flags are their regional indicator pairs, named as CLDR does', () => {
    expect(flagOf('DE')).toBe('\u{1F1E9}\u{1F1EA}');
    expect(emojiEntry('🇩🇪')?.name).toBe('flag: Germany');
    expect(emojiEntry('🇺🇦')?.words).toContain('ua');
    expect(() => flagOf('de')).toThrow(/two letters/);
    expect(() => flagOf('DEU')).toThrow(/two letters/);
  });
});

describe('emoji search', () => {
  test('finds by the start of any word of the name or keywords, every word typed must match', () => {
    expect(found('thumbs')).toEqual(['👍', '👎']);
    expect(found('thu up')).toEqual(['👍']);
    expect(found('THUMBS  Up ')).toEqual(['👍']);
    expect(found('+1')).toEqual(['👍']);
    expect(found('germ')).toEqual(['🇩🇪']);
    expect(found('deutschland')).toEqual(['🇩🇪']);
    expect(found('pizza')[0]).toBe('🍕');
    expect(found('zzqx')).toEqual([]);
    expect(found('')).toEqual([]);
    expect(found('   ')).toEqual([]);
  });

  test('a whole name word comes before the start of one, a name word before a keyword, a short name before a long one', () => {
    const party = found('party');
    expect(party[0]).toBe('🎉');
    expect(party).toContain('🥳');
    expect(party.indexOf('🥳')).toBeLessThan(party.indexOf('💃'));
    const heart = found('heart');
    expect(heart[0]).toBe('❤️');
    expect(heart.indexOf('😍')).toBeGreaterThan(heart.indexOf('🖤'));
  });

  test('a pasted emoji finds itself; an over-long query is cut, not refused', () => {
    expect(found('🎉')).toEqual(['🎉']);
    expect(found(' 🇯🇵 ')).toEqual(['🇯🇵']);
    expect(found(`pizza ${'x'.repeat(10_000)}`)).toEqual([]);
    expect(found(`${'pizza '.repeat(20)}`)[0]).toBe('🍕');
  });
});

/**
 * `:shortcode` autocompletion (src/lib/ui/emoji/emoji-shortcode.ts) and the composer's shared
 * suggestion rules (src/lib/ui/composer-suggest.ts): which ":query" opens the list (and which
 * colons never do: times, links, smileys), what it matches (CLDR names and keywords, in the
 * device's tone), and that choosing replaces exactly the ":query".
 */
import { describe, expect, test } from 'vitest';
import { applyShortcode, shortcodeOptions, shortcodeQuery, MAX_QUERY, MAX_SHORTCODE_OPTIONS } from '../../src/lib/ui/emoji/emoji-shortcode';
import { moveActive, suggestAt, type Suggester } from '../../src/lib/ui/composer-suggest';
import { shortcodeSuggester } from '../../src/lib/ui/emoji/shortcode-suggester';
import { applyMention, mentionCandidates, mentionQuery } from '../../src/lib/ui/mention-text';

const at = (text: string) => shortcodeQuery(text, text.length);
const glyphs = (q: string, tone: 0 | 3 = 0) => shortcodeOptions(q, tone).map((o) => o.glyph);

describe(':shortcode query', () => {
  test('a colon at a word start and two or more letters open it', () => {
    expect(at(':thu')).toEqual({ start: 0, query: 'thu' });
    expect(at('ok :Thu')).toEqual({ start: 3, query: 'thu' });
    expect(at('ok\n:pizza')).toEqual({ start: 3, query: 'pizza' });
    expect(at('(:thumbs_up')).toEqual({ start: 1, query: 'thumbs_up' });
    expect(at(':+1')).toBeUndefined();
    expect(shortcodeQuery(':thu and more', 4)).toEqual({ start: 0, query: 'thu' });
  });

  test('times, links, smileys, a lone colon and a single letter never open it', () => {
    for (const t of ['12:30', 'at 12:30', 'http://example', 'a:bc', ':)', ':D', ':p', ':', 'ok :', ':t', ':12', ':thu up', 'x:thu']) {
      expect(at(t), JSON.stringify(t)).toBeUndefined();
    }
    expect(at(`:${'a'.repeat(MAX_QUERY)}`)).toBeDefined();
    expect(at(`:${'a'.repeat(MAX_QUERY + 1)}`)).toBeUndefined();
  });

  test('matches by CLDR name and keyword, best first, at most eight, "_" read as a space', () => {
    expect(glyphs('thu')[0]).toBe('👍');
    expect(glyphs('thu')).toContain('👎');
    expect(glyphs('thumbs_up')).toEqual(['👍']);
    expect(glyphs('pizza')[0]).toBe('🍕');
    expect(glyphs('tada')).toEqual(['🎉']);
    expect(glyphs('heart').length).toBe(MAX_SHORTCODE_OPTIONS);
    expect(glyphs('zzqx')).toEqual([]);
    expect(shortcodeOptions('thu', 0)[0]!.entry.name).toBe('thumbs up');
  });

  test('options show in the skin tone, where the emoji takes one', () => {
    expect(glyphs('thumbs', 3)).toEqual(['👍🏽', '👎🏽']);
    expect(glyphs('pizza', 3)[0]).toBe('🍕');
  });

  test('choosing replaces exactly the ":query" and puts the caret after the emoji', () => {
    const text = 'great :thu see you';
    const q = shortcodeQuery(text, 10)!;
    expect(applyShortcode(text, q, 10, '👍')).toEqual({ text: 'great 👍 see you', caret: 8 });
    expect(applyShortcode(':thu', at(':thu')!, 4, '👍🏽')).toEqual({ text: '👍🏽', caret: 4 });
    // Past the composer's limit nothing changes.
    expect(applyShortcode(':thu', at(':thu')!, 4, '👍', 1)).toBeUndefined();
  });
});

describe('composer suggestions', () => {
  const members = ['ben', 'bea', 'cat'];
  const mentions: Suggester = {
    id: 'm',
    label: 'Mention a member',
    find: mentionQuery,
    options: (m) => mentionCandidates(members, m.query).map((u) => ({ key: u, label: u })),
    apply: (text, m, caret, o) => applyMention(text, m, caret, o.key),
    announce: (n) => `${n}`
  };
  const both = [mentions, shortcodeSuggester];

  test('the first suggester with options wins; the emoji one answers ":thu", the mention one "@be"', () => {
    expect(suggestAt(both, 'hi @be', 6)?.options.map((o) => o.key)).toEqual(['ben', 'bea']);
    const s = suggestAt(both, 'hi :thu', 7)!;
    expect(s.suggester.id).toBe('emoji-shortcodes');
    expect(s.options[0]).toMatchObject({ label: 'thumbs up', icon: '👍' });
    expect(suggestAt(both, 'hi @zz', 6)).toBeUndefined();
    expect(suggestAt(both, 'hi :zzqx', 8)).toBeUndefined();
  });

  test('nothing with a selection (caret -1), an empty box, or a caret past the text', () => {
    expect(suggestAt(both, ':thu', -1)).toBeUndefined();
    expect(suggestAt(both, '', 0)).toBeUndefined();
    expect(suggestAt(both, '', 4)).toBeUndefined();
  });

  test('the arrows wrap at both ends', () => {
    expect(moveActive(0, 3, 'ArrowDown')).toBe(1);
    expect(moveActive(2, 3, 'ArrowDown')).toBe(0);
    expect(moveActive(0, 3, 'ArrowUp')).toBe(2);
    expect(moveActive(0, 0, 'ArrowUp')).toBe(0);
  });
});

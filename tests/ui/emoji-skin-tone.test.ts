/**
 * Skin tones in the emoji picker (src/lib/ui/emoji/skin-tone.ts, emoji-data.ts, quick-row.ts):
 * the data marks exactly the bundled emoji Unicode lets take a Fitzpatrick modifier; a tone lands
 * after the one modifier base (dropping U+FE0F); every toned form is still one emoji a reaction
 * may carry (P47) and enlarges alone; recents and the tone survive storage the page does not
 * control; the quick reaction row follows the tone but keeps ours as we sent it.
 */
import { describe, expect, test } from 'vitest';
import { ALL_EMOJI, emojiEntry, glyphOf } from '../../src/lib/ui/emoji/emoji-data';
import { SKIN_TONES, TONE_KEY, loadTone, saveTone, toneOf, withTone, withoutTone, type SkinTone } from '../../src/lib/ui/emoji/skin-tone';
import { RECENT_KEY, loadRecents, rememberRecent, type RecentStorage } from '../../src/lib/ui/emoji/emoji-recents';
import { searchEmoji } from '../../src/lib/ui/emoji/emoji-search';
import { quickRow } from '../../src/lib/ui/emoji/quick-row';
import { QUICK_REACTIONS } from '../../src/lib/ui/message-actions';
import { encodeContent, isOneEmoji } from '../../src/lib/wire/content';
import { isEmojiOnly } from '../../src/lib/ui/message-text';

class MemoryStorage implements RecentStorage {
  readonly items = new Map<string, string>();
  refuse = false;
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.refuse) throw new DOMException('quota', 'QuotaExceededError');
    this.items.set(key, String(value));
  }
}

const TONES = SKIN_TONES.map((t) => t.tone).filter((t) => t !== 0);
/** Unicode (the runtime's tables): a code point that takes a modifier, and the RGI set of emoji. */
const MODIFIER_BASE = /\p{Emoji_Modifier_Base}/u;
/** The v flag (properties of strings) is ES2024; tsconfig targets lower, Node 20 has it. */
const RGI = new RegExp('^\\p{RGI_Emoji}$', 'v');
/** Modifier bases whose toned forms are not RGI (no emoji font draws them as one glyph). */
const NOT_TONED = ['👪'];

describe('skin tones', () => {
  test('six choices: the default, then the five Fitzpatrick modifiers U+1F3FB..U+1F3FF', () => {
    expect(SKIN_TONES.map((t) => t.tone)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(SKIN_TONES.map((t) => t.modifier)).toEqual(['', '\u{1F3FB}', '\u{1F3FC}', '\u{1F3FD}', '\u{1F3FE}', '\u{1F3FF}']);
    expect(new Set(SKIN_TONES.map((t) => t.label)).size).toBe(6);
  });

  test('the data marks exactly the bundled emoji whose base is Emoji_Modifier_Base and whose toned forms are RGI', () => {
    const marked = ALL_EMOJI.filter((e) => e.tone).map((e) => e.emoji);
    const unicode = ALL_EMOJI.filter((e) => [...e.emoji].some((c) => MODIFIER_BASE.test(c)) && !NOT_TONED.includes(e.emoji)).map((e) => e.emoji);
    expect(marked).toEqual(unicode);
    expect(marked.length).toBeGreaterThan(80);
    for (const e of ALL_EMOJI.filter((x) => x.tone)) {
      expect([...e.emoji].filter((c) => MODIFIER_BASE.test(c)), e.name).toHaveLength(1);
      for (const t of TONES) expect(RGI.test(withTone(e.emoji, t)), `${e.name} tone ${t}`).toBe(true);
    }
    for (const e of NOT_TONED) expect(RGI.test(withTone(e, 3)), e).toBe(false);
  });

  test('a tone goes after the base, replaces its U+FE0F, and keeps a ZWJ tail', () => {
    expect(withTone('👍', 3)).toBe('👍🏽');
    expect(withTone('👍', 0)).toBe('👍');
    expect(withTone('☝️', 1)).toBe('☝\u{1F3FB}');
    expect(withTone('🧑‍💻', 5)).toBe('🧑\u{1F3FF}\u200d💻');
    expect(withTone('🧑‍⚕️', 2)).toBe('🧑\u{1F3FC}\u200d⚕️');
    expect(toneOf('👍🏽')).toBe(3);
    expect(toneOf('👍')).toBe(0);
    expect(toneOf('👍🏽🏿')).toBeUndefined();
    expect(withoutTone('🧑🏿‍💻')).toBe('🧑‍💻');
  });

  test('glyphOf tones only emoji that take a tone', () => {
    const thumbs = emojiEntry('👍')!;
    const heart = emojiEntry('❤️')!;
    expect(thumbs.tone).toBe(true);
    expect(heart.tone).toBe(false);
    expect(glyphOf(thumbs, 4)).toBe('👍🏾');
    expect(glyphOf(heart, 4)).toBe('❤️');
    expect(emojiEntry('🇩🇪')!.tone).toBe(false);
  });

  test('P47 every toned form is one emoji a reaction can carry, enlarges alone, and is found as its entry', () => {
    for (const e of ALL_EMOJI.filter((x) => x.tone)) {
      for (const t of TONES) {
        const g = withTone(e.emoji, t);
        expect(isOneEmoji(g), `${e.name} ${t}`).toBe(true);
        expect(isEmojiOnly(g + g), `${e.name} ${t}`).toBe(true);
        expect(() => encodeContent({ kind: 'reaction', target: '00'.repeat(16), emoji: g })).not.toThrow();
        expect(emojiEntry(g), `${e.name} ${t}`).toBe(e);
      }
    }
    // A modifier on an emoji that takes none, or two modifiers, is not an emoji the picker offers.
    expect(emojiEntry('❤️🏽')).toBeUndefined();
    expect(emojiEntry('👍🏽🏽')).toBeUndefined();
    expect(emojiEntry('🏽')).toBeUndefined();
  });

  test('search finds a pasted toned emoji as its entry', () => {
    expect(searchEmoji('👍🏿').map((e) => e.name)).toEqual(['thumbs up']);
  });

  test('a toned recent stays toned; a forged toned form in storage is dropped', () => {
    const s = new MemoryStorage();
    rememberRecent(s, '👍🏾');
    rememberRecent(s, '👍');
    rememberRecent(s, '🎉');
    expect(loadRecents(s)).toEqual(['🎉', '👍', '👍🏾']);
    s.items.set(RECENT_KEY, JSON.stringify(['👍🏾', '❤️🏽', '👍🏽🏽', '🏽', '☝️🏽', '☝🏽']));
    expect(loadRecents(s)).toEqual(['👍🏾', '☝🏽']);
  });

  test('the tone is kept on the device; anything stored but 0..5 reads as the default', () => {
    const s = new MemoryStorage();
    expect(loadTone(s)).toBe(0);
    saveTone(s, 4);
    expect(s.items.get(TONE_KEY)).toBe('4');
    expect(loadTone(s)).toBe(4);
    for (const bad of ['6', '-1', '1.5', ' 3', 'dark', '', '33']) {
      s.items.set(TONE_KEY, bad);
      expect(loadTone(s), JSON.stringify(bad)).toBe(0);
    }
    expect(loadTone(undefined)).toBe(0);
    s.refuse = true;
    expect(() => saveTone(s, 2)).not.toThrow();
  });

  test('the quick reaction row takes the tone, but our reaction shows as we sent it', () => {
    const tone: SkinTone = 2;
    const row = quickRow(QUICK_REACTIONS, tone, undefined);
    expect(row).toEqual(QUICK_REACTIONS.map((e) => (emojiEntry(e)!.tone ? withTone(e, tone) : e)));
    expect(row[0]).toBe('👍🏼');
    expect(row).toContain('🙏🏼');
    expect(row).toContain('❤️');
    expect(quickRow(QUICK_REACTIONS, 0, undefined)).toEqual([...QUICK_REACTIONS]);
    // Ours: a plain 👍 sent before the tone was chosen stays plain (and pressed); a toned one stays toned.
    expect(quickRow(QUICK_REACTIONS, tone, '👍')[0]).toBe('👍');
    expect(quickRow(QUICK_REACTIONS, 0, '👍🏿')[0]).toBe('👍🏿');
    expect(quickRow(QUICK_REACTIONS, tone, '🍕')[0]).toBe('👍🏼');
  });
});

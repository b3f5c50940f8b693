/**
 * The picker's "Recent" row (src/lib/ui/emoji/emoji-recents.ts) and putting an emoji where the
 * caret is (caret.ts). Recents come from storage the page does not control: whatever is stored,
 * only emoji the picker offers come back, once each, at most MAX_RECENT; nothing throws.
 */
import { describe, expect, test } from 'vitest';
import { MAX_RECENT, RECENT_KEY, loadRecents, rememberRecent, withRecent, type RecentStorage } from '../../src/lib/ui/emoji/emoji-recents';
import { insertAtCaret } from '../../src/lib/ui/emoji/caret';
import { ALL_EMOJI } from '../../src/lib/ui/emoji/emoji-data';

/** localStorage's contract (strings in, strings out), in memory: Node has no localStorage. */
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

describe('recent emoji', () => {
  test('newest first, a repeat moves to the front, at most MAX_RECENT', () => {
    const s = new MemoryStorage();
    expect(loadRecents(s)).toEqual([]);
    rememberRecent(s, '😂');
    rememberRecent(s, '❤️');
    expect(rememberRecent(s, '😂')).toEqual(['😂', '❤️']);
    expect(loadRecents(s)).toEqual(['😂', '❤️']);
    for (const e of ALL_EMOJI.slice(0, 40)) rememberRecent(s, e.emoji);
    const last = ALL_EMOJI.slice(24, 40).map((e) => e.emoji).reverse();
    expect(loadRecents(s)).toEqual(last);
    expect(loadRecents(s)).toHaveLength(MAX_RECENT);
  });

  test('whatever is stored, only known emoji come back, once each', () => {
    const s = new MemoryStorage();
    for (const bad of ['not json', '{"a":1}', '42', 'null', '"😂"']) {
      s.items.set(RECENT_KEY, bad);
      expect(loadRecents(s), bad).toEqual([]);
    }
    s.items.set(RECENT_KEY, JSON.stringify(['😂', 7, null, '<img src=x>', '😂', 'a', '😂😂', '👍', { e: '🎉' }]));
    expect(loadRecents(s)).toEqual(['😂', '👍']);
    s.items.set(RECENT_KEY, JSON.stringify(ALL_EMOJI.map((e) => e.emoji)));
    expect(loadRecents(s)).toHaveLength(MAX_RECENT);
    // A bad stored value is replaced by a clean one on the next pick.
    s.items.set(RECENT_KEY, '[[[');
    expect(rememberRecent(s, '🎉')).toEqual(['🎉']);
    expect(JSON.parse(s.items.get(RECENT_KEY)!)).toEqual(['🎉']);
  });

  test('no storage, or one that refuses writes, loses only the row', () => {
    expect(loadRecents(undefined)).toEqual([]);
    expect(rememberRecent(undefined, '🎉')).toEqual(['🎉']);
    const s = new MemoryStorage();
    s.refuse = true;
    expect(rememberRecent(s, '🎉')).toEqual(['🎉']);
    expect(withRecent(['a', 'b'], 'b')).toEqual(['b', 'a']);
  });
});

describe('insert at the caret', () => {
  test('inserts where the caret is, not at the end, and puts the caret after it', () => {
    expect(insertAtCaret('ab', 1, 1, '😂')).toEqual({ value: 'a😂b', caret: 3 });
    expect(insertAtCaret('', 0, 0, '👍')).toEqual({ value: '👍', caret: 2 });
    expect(insertAtCaret('hi', 2, 2, '🇩🇪')).toEqual({ value: 'hi🇩🇪', caret: 6 });
  });

  test('several picks in a row land in order', () => {
    let v = insertAtCaret('xy', 1, 1, '😂')!;
    v = insertAtCaret(v.value, v.caret, v.caret, '❤️')!;
    v = insertAtCaret(v.value, v.caret, v.caret, '🎉')!;
    expect(v).toEqual({ value: 'x😂❤️🎉y', caret: 'x😂❤️🎉'.length });
  });

  test('a selection is replaced; a reversed or out-of-range one is read sensibly', () => {
    expect(insertAtCaret('hello world', 6, 11, '🌍')).toEqual({ value: 'hello 🌍', caret: 8 });
    expect(insertAtCaret('hello world', 11, 6, '🌍')).toEqual({ value: 'hello 🌍', caret: 8 });
    expect(insertAtCaret('abc', -5, -1, '👍')).toEqual({ value: '👍abc', caret: 2 });
    expect(insertAtCaret('abc', 99, 99, '👍')).toEqual({ value: 'abc👍', caret: 5 });
    expect(insertAtCaret('abc', NaN, NaN, '👍')).toEqual({ value: 'abc👍', caret: 5 });
  });

  test('a pick that would pass the composer limit is refused, the text kept as it was', () => {
    expect(insertAtCaret('abcd', 4, 4, '👍', 5)).toBeUndefined();
    expect(insertAtCaret('abc', 3, 3, '👍', 5)).toEqual({ value: 'abc👍', caret: 5 });
    expect(insertAtCaret('abcd', 0, 4, '👍', 5)).toEqual({ value: '👍', caret: 2 });
  });
});

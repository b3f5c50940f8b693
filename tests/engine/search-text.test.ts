/**
 * The search index's words (workers/storage/search-text.ts) and snippets (search-snippet.ts):
 * case and accent folding, compatibility forms, letters folded by table, scripts without spaces,
 * the last typed word as a prefix, and snippets whose marks cover the original words.
 */
import { describe, expect, test } from 'vitest';
import { entryMatches, parseQuery, tokens, words } from '../../workers/storage/search-text';
import { snippetOf } from '../../workers/engine/search-snippet';

describe('search words', () => {
  test('case, accents and compatibility forms fold to one token', () => {
    expect(tokens('Crème BRÛLÉE, naïve café')).toEqual(['creme', 'brulee', 'naive', 'cafe']);
    expect(tokens('ＦＵＬＬ width ﬁle')).toEqual(['full', 'width', 'file']);
    expect(tokens('İstanbul Ørsted Łódź Straße Æsir')).toEqual(['istanbul', 'orsted', 'lodz', 'strasse', 'aesir']);
    // Decomposed and precomposed input give the same token.
    expect(tokens('Cre\u0300me')).toEqual(tokens('Crème'));
  });

  test('words are runs of letters and digits; punctuation, emoji and file name dots split them', () => {
    expect(tokens('report-2024_final.PDF 👍 ok!!')).toEqual(['report', '2024', 'final', 'pdf', 'ok']);
    expect(tokens('Привет, мир')).toEqual(['привет', 'мир']);
    expect(tokens('   ')).toEqual([]);
  });

  test('Han and kana give one token per character; spaced words beside them stay whole', () => {
    expect(tokens('東京タワーabc')).toEqual(['東', '京', 'タ', 'ワ', 'ー', 'abc']);
    const q = parseQuery('東京');
    expect(entryMatches(tokens('明日は東京へ'), q)).toBe(true);
    expect(entryMatches(tokens('明日は京都へ'), q)).toBe(false);
  });

  test('word offsets point into the original text, through folding', () => {
    const text = 'Voilà «Crème» ok';
    expect(words(text).map((w) => text.slice(w.start, w.end))).toEqual(['Voilà', 'Crème', 'ok']);
  });

  test('every term must match; only the last one typed is a prefix, and only while it is being typed', () => {
    const entry = tokens('Dinner at the Trattoria tomorrow');
    expect(entryMatches(entry, parseQuery('tratt'))).toBe(true);
    expect(entryMatches(entry, parseQuery('TRATTÒ'))).toBe(true);
    expect(entryMatches(entry, parseQuery('tratt '))).toBe(false);
    expect(entryMatches(entry, parseQuery('dinner tom'))).toBe(true);
    expect(entryMatches(entry, parseQuery('din tomorrow'))).toBe(false);
    expect(entryMatches(entry, parseQuery('dinner lunch'))).toBe(false);
    expect(parseQuery('a b a')).toEqual({ terms: ['b', 'a'], prefix: true });
    expect(parseQuery(' ?! ')).toEqual({ terms: [], prefix: false });
  });
});

describe('search snippets', () => {
  test('marks cover the original words, accents included, in a window with ellipses where cut', () => {
    const text = `${'lorem ipsum '.repeat(10)}the Crème brûlée was great ${'dolor sit '.repeat(20)}`;
    const s = snippetOf(text, parseQuery('creme bru'))!;
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.marks.map(([a, b]) => s.text.slice(a, b))).toEqual(['Crème', 'brûlée']);
  });

  test('whitespace runs collapse and the marks follow; no match, no snippet', () => {
    const s = snippetOf('see\n\n  you at   the BEACH', parseQuery('beach'))!;
    expect(s.text).toBe('see you at the BEACH');
    expect(s.marks.map(([a, b]) => s.text.slice(a, b))).toEqual(['BEACH']);
    expect(snippetOf('nothing here', parseQuery('beach'))).toBeUndefined();
    // A text shorter than the window shows whole, however far in the match is.
    const short = '<img src=x onerror=alert(1)> <b>crème</b> brûlée';
    expect(snippetOf(short, parseQuery('bru'))?.text).toBe(short);
  });
});

/**
 * Mentions as text (src/lib/ui/mention-text.ts; README "Groups": mentions): the picker's query at
 * the caret, putting a member in its place, which members a text mentions, and display runs that
 * keep every character of the text.
 */
import { describe, expect, test } from 'vitest';
import { applyMention, mentionCandidates, mentionQuery, mentionRuns, mentionsIn } from '../../src/lib/ui/mention-text';

describe('mention text', () => {
  test('the query is the "@word" the caret ends, only at a word start', () => {
    expect(mentionQuery('hi @be', 6)).toEqual({ start: 3, query: 'be' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('mail me@host', 12)).toBeUndefined();
    expect(mentionQuery('hi @ben there', 13)).toBeUndefined();
    expect(mentionCandidates(['ann', 'ben', 'bernd', 'robert'], 'be')).toEqual(['ben', 'bernd', 'robert']);
  });

  test('a picked member replaces the query and the caret lands after it', () => {
    const q = mentionQuery('hi @be', 6)!;
    expect(applyMention('hi @be', q, 6, 'ben')).toEqual({ text: 'hi @ben ', caret: 8 });
    expect(applyMention('hi @be later', q, 6, 'ben')).toEqual({ text: 'hi @ben later', caret: 8 });
  });

  test('mentions are whole usernames of members only', () => {
    expect(mentionsIn('@ben and @cat.', ['ann', 'ben', 'cat'])).toEqual(['ben', 'cat']);
    expect(mentionsIn('@bent me@ben @mallory', ['ben', 'mallory2'])).toEqual([]);
    expect(mentionsIn('@ben.x', ['ben', 'ben.x'])).toEqual(['ben.x']);
  });

  test('runs mark each mention and keep every character', () => {
    const t = 'hey @ben, @cat and @bent!';
    const runs = mentionRuns(t, ['ben', 'cat']);
    expect(runs.map((r) => r.text).join('')).toBe(t);
    expect(runs.filter((r) => r.mention).map((r) => r.text)).toEqual(['@ben', '@cat']);
    expect(mentionRuns('no one', [])).toEqual([{ text: 'no one' }]);
  });
});

/**
 * What a notification may say and when one is due (src/lib/client/attention/attention.ts,
 * README "Notifications"): never message text; only conversations that gained messages since the
 * last look; nothing for what already waited when the app opened.
 */
import { describe, expect, test } from 'vitest';
import { ArrivalTracker, noticeFor, parseMode, titleWithCount, unreadTotal, type UnreadRow } from '../../src/lib/client/attention/attention';

const row = (key: string, unread: number, name = key.slice(2)): UnreadRow => ({ key, name, unread });

describe('attention', () => {
  test('the first look is a baseline; later looks report only conversations whose unread count grew', () => {
    const t = new ArrivalTracker();
    expect(t.arrivals([row('c:bob', 3), row('g:aa', 1)])).toEqual([]);
    expect(t.arrivals([row('c:bob', 3), row('g:aa', 2), row('c:cat', 1)]).map((r) => r.key)).toEqual(['g:aa', 'c:cat']);
    // Read (count falls) and then one more: that one is news again.
    expect(t.arrivals([row('c:bob', 0), row('g:aa', 2), row('c:cat', 1)])).toEqual([]);
    expect(t.arrivals([row('c:bob', 1), row('g:aa', 2), row('c:cat', 1)]).map((r) => r.key)).toEqual(['c:bob']);
  });

  test('a muted conversation is counted but never reported as news', () => {
    const t = new ArrivalTracker();
    t.arrivals([{ ...row('c:bob', 0), muted: true }]);
    const rows = [{ ...row('c:bob', 4), muted: true }];
    expect(t.arrivals(rows)).toEqual([]);
    expect(unreadTotal(rows)).toBe(4);
  });

  test('a mention of us notifies even in a muted conversation; more unmentioned messages do not', () => {
    const t = new ArrivalTracker();
    t.arrivals([{ ...row('g:aa', 0), muted: true, mentions: 0 }]);
    expect(t.arrivals([{ ...row('g:aa', 1), muted: true, mentions: 1 }]).map((r) => r.key)).toEqual(['g:aa']);
    expect(t.arrivals([{ ...row('g:aa', 2), muted: true, mentions: 1 }])).toEqual([]);
    expect(t.arrivals([{ ...row('g:aa', 3), muted: true, mentions: 2 }]).map((r) => r.key)).toEqual(['g:aa']);
  });

  test('a notification names at most the conversation, and in private mode not even that', () => {
    const bob = row('c:bob', 2, 'Bob the Builder');
    expect(noticeFor(bob, 'name')).toEqual({ title: 'Bob the Builder', body: '2 new messages', named: true, key: 'c:bob' });
    const anon = noticeFor(bob, 'private');
    expect(anon).toEqual({ title: 'Parley', body: 'New message', named: false, key: 'c:bob' });
    expect(`${anon.title} ${anon.body}`).not.toMatch(/bob/i);
  });

  test('the title carries the unread total in front, replaced rather than stacked', () => {
    expect(titleWithCount('Chats · Parley', 3)).toBe('(3) Chats · Parley');
    expect(titleWithCount('(3) Chats · Parley', 4)).toBe('(4) Chats · Parley');
    expect(titleWithCount('(4) Chats · Parley', 0)).toBe('Chats · Parley');
    expect(titleWithCount('Chats · Parley', 250)).toBe('(99+) Chats · Parley');
    expect(titleWithCount('(99+) Chats · Parley', 1)).toBe('(1) Chats · Parley');
    expect(unreadTotal([row('c:a', 2), row('g:b', 5)])).toBe(7);
  });

  test('an unknown stored mode means off', () => {
    expect(parseMode(null)).toBe('off');
    expect(parseMode('everything')).toBe('off');
    expect(parseMode('private')).toBe('private');
  });
});

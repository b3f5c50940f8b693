/**
 * What a group's system entries say (src/lib/ui/group-notice-text.ts): the welcome of a group
 * request names who added us (P42, as Signal's "ann added you to the group"), while welcomes
 * stored before that kind existed (`joined` with our own name) still read "You joined".
 */
import { expect, test } from 'vitest';
import { groupNoticeText } from '../../src/lib/ui/group-notice-text';
import type { GroupMessageView, GroupNotice } from '../../src/lib/vault/group-views';

const notice = (kind: GroupNotice, who: string, text?: string): Extract<GroupMessageView, { kind: 'notice' }> => ({ kind: 'notice', id: 'k', notice: kind, who, at: 1, ...(text ? { text } : {}) });

test('P42 the welcome says who added us; an older stored welcome still reads "You joined"', () => {
  expect(groupNoticeText(notice('added-you', 'ann'), 'ben')).toBe('ann added you to the group');
  expect(groupNoticeText(notice('joined', 'ben'), 'ben')).toBe('You joined');
  expect(groupNoticeText(notice('joined', 'dan'), 'ben')).toBe('dan joined');
});

test('every other kind keeps its text; only a gap speaks of missing messages', () => {
  const texts = (['created', 'removed', 'left', 'you-removed', 'renamed', 'described', 'pictured', 'unpictured', 'restored'] as const).map((k) => groupNoticeText(notice(k, 'ann', 'Crew'), 'ben'));
  expect(texts).toEqual([
    'ann created the group',
    'ann was removed',
    'ann left',
    'You were removed from this group',
    'ann changed the group name to “Crew”',
    'ann changed the group description',
    'ann changed the group picture',
    'ann removed the group picture',
    'Your account was restored on this browser. Messages from before the restore are not available here.'
  ]);
  expect(groupNoticeText(notice('gap', 'ann'), 'ben')).toBe('Messages from ann are missing');
});

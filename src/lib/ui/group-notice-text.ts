/**
 * What a group conversation's system entry says (README "Groups"; the kinds are group-views.ts
 * GroupNotice): joins, removals, leaves, info changes, missing messages, a restore, and the
 * welcome — "ann added you to the group" (P42: a group request names who added us, as Signal),
 * or "You joined" for one we came into ourselves and for welcomes stored before `added-you`.
 * Pure: no session, no DOM.
 */
import type { GroupMessageView } from '../vault/group-views';

type GroupNoticeView = Extract<GroupMessageView, { kind: 'notice' }>;

export function groupNoticeText(m: GroupNoticeView, me: string | undefined): string {
  const who = m.who === me ? 'You' : m.who;
  switch (m.notice) {
    case 'created':
      return `${who} created the group`;
    case 'joined':
      return `${who} joined`;
    case 'added-you':
      return `${who} added you to the group`;
    case 'removed':
      return `${who} was removed`;
    case 'left':
      return `${who} left`;
    case 'you-removed':
      return 'You were removed from this group';
    case 'renamed':
      return `${who} changed the group name to “${m.text ?? ''}”`;
    case 'described':
      return `${who} changed the group description`;
    case 'pictured':
      return `${who} changed the group picture`;
    case 'unpictured':
      return `${who} removed the group picture`;
    case 'restored':
      return 'Your account was restored on this browser. Messages from before the restore are not available here.';
    case 'gap':
      return `Messages from ${m.who} are missing`;
    case 'unjoined':
      return `${who} is not in the group after all: two admins changed it at the same moment`;
    case 'rejoined':
      return `${who} is still in the group: two admins changed it at the same moment`;
    case 'name-reverted':
      return `The group name is “${m.text ?? ''}” again: two admins changed the group at the same moment`;
    case 'info-reverted':
      return 'The group description or picture is back as it was: two admins changed the group at the same moment';
    case 'undone':
      return `A change you made at the same moment as another admin was undone: ${m.text ?? 'a change'}`;
  }
}

/**
 * The chat list's order (README "Chat list"): chats and groups in one list, pinned ones first
 * (pinned chats and pinned groups mixed by activity), then the rest newest first, as Signal and
 * WhatsApp show them; archived ones apart, under "Archived (n)"; message requests (P42) apart too.
 * Pure: ChatList.svelte renders what this answers.
 */
import type { ChatFlags, ChatView } from '$lib/vault/views';
import type { GroupSummaryView } from '$lib/vault/group-views';

export type ListRowItem = { kind: 'chat'; key: string; at: number; flags: ChatFlags; chat: ChatView } | { kind: 'group'; key: string; at: number; flags: ChatFlags; group: GroupSummaryView };

export interface ChatListRows {
  /** The main list: not archived, not a request; pinned first, then by activity. */
  main: ListRowItem[];
  /** Archived, in the same order. */
  archived: ListRowItem[];
  /** Message and group requests, newest first. */
  requests: ListRowItem[];
}

const chatRow = (chat: ChatView): ListRowItem => ({ kind: 'chat', key: `c:${chat.username}`, at: chat.lastAt ?? 0, flags: chat.flags, chat });
const groupRow = (group: GroupSummaryView): ListRowItem => ({ kind: 'group', key: `g:${group.id}`, at: group.lastAt ?? 0, flags: group.flags, group });
const newest = (a: ListRowItem, b: ListRowItem) => b.at - a.at;

export function chatListRows(chats: readonly ChatView[], groups: readonly GroupSummaryView[]): ChatListRows {
  const filed = [...chats.filter((c) => !c.request).map(chatRow), ...groups.filter((g) => !g.requestFrom).map(groupRow)].sort(
    (a, b) => Number(b.flags.pinned) - Number(a.flags.pinned) || newest(a, b)
  );
  return {
    main: filed.filter((r) => !r.flags.archived),
    archived: filed.filter((r) => r.flags.archived),
    requests: [...chats.filter((c) => c.request).map(chatRow), ...groups.filter((g) => g.requestFrom).map(groupRow)].sort(newest)
  };
}

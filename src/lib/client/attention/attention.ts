/**
 * What reaches the user while Parley is out of sight (README "Notifications"): the unread total
 * for the tab title and the app badge, and which conversations got new messages since the last
 * look, each turned into a notification that carries at most a name — never message text, so
 * nothing readable lands in the operating system's notification store. Pure: the browser side
 * (notify.svelte.ts) feeds it the chat list and shows what it returns.
 */

/** Off until the user turns it on; then the sender's name, or nothing that identifies anyone. */
export type NotifyMode = 'off' | 'name' | 'private';
export const NOTIFY_MODES: readonly NotifyMode[] = ['off', 'name', 'private'];

/** One conversation as the chat list shows it: a 1:1 chat or a group. */
export interface UnreadRow {
  /** Stable across reads: `c:<username>` or `g:<group id>`. */
  key: string;
  /** The name the list shows (display name, username or group name). */
  name: string;
  unread: number;
  /** Muted by the user: counted, never notified — unless a new message mentions us. */
  muted?: boolean;
  /** Unread messages that mention us (groups, README "Groups": mentions). */
  mentions?: number;
}

export interface Notice {
  title: string;
  body: string;
  /**
   * Whether the notification is about one conversation (name mode: one opaque tag per
   * conversation, notify-tags.ts) or about none (private mode: one tag in all, a click opens the
   * chat list). Notifications with one tag replace each other.
   */
  named: boolean;
  /** The conversation it is about; it never leaves the page (notify-tags.ts turns it into a tag). */
  key: string;
}

export const unreadTotal = (rows: readonly UnreadRow[]): number => rows.reduce((n, r) => n + Math.max(0, r.unread), 0);

/** `(3) Chats · Parley` for 3 unread; the title unchanged for none. Re-applying is idempotent. */
export function titleWithCount(title: string, unread: number): string {
  const base = title.replace(/^\(\d+\+?\) /, '');
  return unread > 0 ? `(${unread > 99 ? '99+' : unread}) ${base}` : base;
}

/**
 * Tracks unread counts between reads of the list: `arrivals` answers which conversations gained
 * unread messages since the previous call. The first call only takes a baseline (opening the app
 * never notifies for what was already waiting).
 */
export class ArrivalTracker {
  #seen: Map<string, { unread: number; mentions: number }> | undefined;

  arrivals(rows: readonly UnreadRow[]): UnreadRow[] {
    const before = this.#seen;
    this.#seen = new Map(rows.map((r) => [r.key, { unread: r.unread, mentions: r.mentions ?? 0 }]));
    if (!before) return [];
    return rows.filter((r) => {
      const was = before.get(r.key) ?? { unread: 0, mentions: 0 };
      // A mention of us notifies even in a muted conversation.
      return (r.mentions ?? 0) > was.mentions || (!r.muted && r.unread > was.unread);
    });
  }
}

export function noticeFor(row: UnreadRow, mode: Exclude<NotifyMode, 'off'>): Notice {
  if (mode === 'private') return { title: 'Parley', body: 'New message', named: false, key: row.key };
  return { title: row.name, body: row.unread > 1 ? `${row.unread} new messages` : 'New message', named: true, key: row.key };
}

export function parseMode(raw: string | null | undefined): NotifyMode {
  return NOTIFY_MODES.includes(raw as NotifyMode) ? (raw as NotifyMode) : 'off';
}

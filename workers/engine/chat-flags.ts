/**
 * How the user files a chat or a group (README "Chat list"): pinned to the top, muted (no
 * notification, as Signal and WhatsApp mute; in a group a mention of us still notifies), archived
 * (out of the main list). Local to this browser; nothing is sent. A new message takes a
 * conversation out of the archive unless it is muted (Signal's rule), via `unarchiveOnMessage`
 * (inbox.ts for chats, group-messages.ts for groups). Group flags: group-flags.ts.
 */
import type { Username } from '../../src/lib/codec/username';
import type { ChatFlags } from '../../src/lib/vault/views';
import { updateChat } from '../storage/chat-repo';
import { commit } from '../storage/vault';
import { canonicalUsername } from './account';
import type { EngineContext } from './context';
import { engineFail } from './errors';

/** A record the user can file: absent = off, as the chat and group records keep them. */
export interface Filed {
  pinned?: true;
  muted?: true;
  archived?: true;
}

function withFlag<T extends Filed>(c: T, name: keyof ChatFlags, on: boolean | undefined): T {
  if (on === undefined || !!c[name] === on) return c;
  const next = { ...c };
  if (on) next[name] = true;
  else delete next[name];
  return next;
}

/** `c` with the flags given changed (the others as they were). */
export function withFlags<T extends Filed>(c: T, flags: Partial<ChatFlags>): T {
  return withFlag(withFlag(withFlag(c, 'pinned', flags.pinned), 'muted', flags.muted), 'archived', flags.archived);
}

export async function setChatFlags(ctx: EngineContext, raw: string, flags: Partial<ChatFlags>): Promise<void> {
  const username: Username = canonicalUsername(raw);
  await commit(ctx.vault, async (tx) => {
    if (!(await tx.objectStore('chats').get(username))) engineFail('NoSuchUser', 'no chat with that user');
    await updateChat(tx, username, (c) => withFlags(c, flags));
  });
  ctx.events.emit({ type: 'chats' });
}

/** A message arrived: an archived chat or group comes back to the list, unless the user muted it. */
export function unarchiveOnMessage<T extends Filed>(c: T): T {
  return c.archived && !c.muted ? withFlag(c, 'archived', false) : c;
}

export function chatFlagsOf(c: Filed): ChatFlags {
  return { pinned: !!c.pinned, muted: !!c.muted, archived: !!c.archived };
}

/**
 * How the user files a chat (README "Chat list"): pinned to the top, muted (no notification, as
 * Signal and WhatsApp mute), archived (out of the main list). Local to this browser; nothing is
 * sent. A new message takes a chat out of the archive unless it is muted (Signal's rule), in
 * inbox.ts via `unarchiveOnMessage`.
 */
import type { Username } from '../../src/lib/codec/username';
import type { ChatFlags } from '../../src/lib/vault/views';
import { updateChat } from '../storage/chat-repo';
import type { ChatRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { canonicalUsername } from './account';
import type { EngineContext } from './context';
import { engineFail } from './errors';

function withFlag(c: ChatRecord, name: keyof ChatFlags, on: boolean | undefined): ChatRecord {
  if (on === undefined || !!c[name] === on) return c;
  const next = { ...c };
  if (on) next[name] = true;
  else delete next[name];
  return next;
}

export async function setChatFlags(ctx: EngineContext, raw: string, flags: Partial<ChatFlags>): Promise<void> {
  const username: Username = canonicalUsername(raw);
  await commit(ctx.vault, async (tx) => {
    if (!(await tx.objectStore('chats').get(username))) engineFail('NoSuchUser', 'no chat with that user');
    await updateChat(tx, username, (c) => withFlag(withFlag(withFlag(c, 'pinned', flags.pinned), 'muted', flags.muted), 'archived', flags.archived));
  });
  ctx.events.emit({ type: 'chats' });
}

/** A message arrived: an archived chat comes back to the list, unless the user muted it. */
export function unarchiveOnMessage(c: ChatRecord): ChatRecord {
  return c.archived && !c.muted ? withFlag(c, 'archived', false) : c;
}

export function chatFlagsOf(c: ChatRecord): ChatFlags {
  return { pinned: !!c.pinned, muted: !!c.muted, archived: !!c.archived };
}

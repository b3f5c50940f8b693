/**
 * The ONE path that removes a message from this browser (SECURITY.md P44): delete for me
 * (message-actions.ts) and expiry of a disappearing message (expiry.ts) both end here, so anything
 * else that keeps a copy of a message (a search index) is cleaned in this one function.
 *
 * `removeMessage` deletes the row — and with it the sealed body, its reactions, edit history,
 * quote and a file's key, digest and blob id, which all live in that one sealed value
 * (message-repo.ts) — fixes the chat's unread count, blanks the chat preview if it showed this
 * message, and drops the message's outbox item if it was never encrypted (its text then never
 * leaves). Replies keep only the quoted message's key, never its text, so nothing of it stays
 * in them. Runs inside the caller's transaction; knows nothing of why the message goes.
 */
import type { Username } from '../../src/lib/codec/username';
import { updateChat } from '../storage/chat-repo';
import { deleteMessage } from '../storage/message-repo';
import { dropUnencrypted } from '../storage/outbox-repo';
import type { MessageRecord, Tx } from '../storage/schema';
import type { EngineEvent } from './events';

/**
 * Removes message `m` (read in `tx`) everywhere this browser keeps it; answers the events to emit
 * after the commit. `preview`: what the chat list shows instead if it showed this message (never its text).
 */
export async function removeMessage(tx: Tx, m: MessageRecord, preview = ''): Promise<EngineEvent[]> {
  const username = m.username as Username;
  await deleteMessage(tx, m.key);
  if (m.direction === 'out') await dropUnencrypted(tx, m.key);
  await updateChat(tx, username, (chat) => {
    const unread = m.direction === 'in' && !m.read;
    const previewed = chat.lastAt === m.sentAt;
    if (!unread && !previewed) return chat;
    return { ...chat, unread: unread ? Math.max(0, chat.unread - 1) : chat.unread, lastPreview: previewed ? preview : chat.lastPreview };
  });
  return [{ type: 'message', username, id: m.key, removed: true }, { type: 'chats' }];
}

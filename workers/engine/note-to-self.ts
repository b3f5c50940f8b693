/**
 * Note to self (README "Note to self"): the chat with our own username. Its messages are stored
 * in this vault only (P32, sealed like any message) and sent nowhere: there are no linked devices,
 * so there is no one to send them to and the host never sees an envelope for them. Nothing can
 * write into it from outside either: the inbox drops every envelope that claims our own username
 * as its sender (inbox.ts). Knows nothing of sessions or the host.
 */
import { fail } from '../../src/lib/codec/errors';
import { newMessageId } from '../../src/lib/wire/content';
import { preview, updateChat } from '../storage/chat-repo';
import { putMessage } from '../storage/message-repo';
import type { MessageRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { messageEvent } from './views';

/** Stores a note; `received` status: it is where it is going, so it shows no ticks. */
export async function saveNote(ctx: EngineContext, text: string, maxChars: number): Promise<MessageRecord> {
  const me = requireMe(ctx);
  if (text.length === 0 || text.length > maxChars) fail('InvalidArgument', `text of ${text.length} characters, expected 1..${maxChars}`);
  const now = ctx.deps.now();
  const id = newMessageId(ctx.deps.rng);
  const m = await commit(ctx.vault, async (tx) => {
    const chat = await updateChat(tx, me.username, (c) => ({ ...c, lastAt: Math.max(c.lastAt + 1, now), lastPreview: preview(text) }));
    const note: MessageRecord = { key: id, id, username: me.username, direction: 'out', body: text, sentAt: chat.lastAt, receivedAt: now, status: 'received' };
    await putMessage(tx, note);
    return note;
  });
  ctx.events.emit(messageEvent(m));
  ctx.events.emit({ type: 'chats' });
  return m;
}

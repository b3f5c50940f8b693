/**
 * Deleting a 1:1 chat (README "Chat list", deleting a chat), as Signal's and WhatsApp's "Delete
 * chat": local to this browser, nothing is sent and the other person is not told. In one
 * transaction every message of the chat goes, with what hangs on it (P44: its search entries and
 * its file copy, message-repo.ts deleteMessage); texts still waiting to be encrypted go unsent
 * (they were deleted before they left; ciphertext already made still goes, as a gap the other
 * side would see otherwise), and so do notes of files that were never sent. The contact, its
 * safety number and the session stay, and so do the settings both sides agreed (the
 * disappearing timer, P44) and mute; pin and archive go with the chat. The row
 * is kept, marked `cleared`, so it is left out of the list until the next message in either
 * direction brings it back with only that message.
 * A message request is not deleted here (requests.ts deleteRequest also forgets the stranger).
 */
import { fail } from '../../src/lib/codec/errors';
import { updateChat } from '../storage/chat-repo';
import { getContact } from '../storage/contact-repo';
import { deleteMessage } from '../storage/message-repo';
import { dropUnencryptedOf } from '../storage/outbox-repo';
import { commit } from '../storage/vault';
import { canonicalUsername } from './account';
import { requireMe, type EngineContext } from './context';
import { isRequest } from './requests';
import { txForgetPlace } from './unsent-files';

export async function deleteChat(ctx: EngineContext, raw: string): Promise<void> {
  requireMe(ctx);
  const username = canonicalUsername(raw);
  if (isRequest(await getContact(ctx.vault, username))) return fail('InvalidArgument', 'a message request is deleted as a request');
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const range = IDBKeyRange.bound([username, 0], [username, Number.MAX_SAFE_INTEGER]);
      const keys = (await tx.objectStore('messages').index('byChat').getAllKeys(range)).map(String);
      for (const k of keys) await deleteMessage(tx, k);
      await dropUnencryptedOf(tx, new Set(keys));
      await updateChat(tx, username, (c) => ({
        username,
        lastPreview: '',
        lastAt: c.lastAt,
        unread: 0,
        missing: 0,
        ...(c.muted ? { muted: true as const } : {}),
        ...(c.disappearing ? { disappearing: c.disappearing } : {}),
        ...(c.disappearingSetAt ? { disappearingSetAt: c.disappearingSetAt } : {}),
        cleared: true as const
      }));
      await txForgetPlace(tx, { kind: 'chat', username });
    })
  );
  ctx.events.emit({ type: 'chats' });
}

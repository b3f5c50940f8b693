/**
 * The chat list's ticks (README "Chat list"): how far our newest message in a chat got, when the
 * chat's newest message is ours. Reads one index entry (the newest row by the byChat index, whose
 * direction and status are clear fields, message-repo.ts) and opens nothing sealed.
 */
import type { Username } from '../../src/lib/codec/username';
import type { MessageStatus } from '../../src/lib/vault/views';
import type { Vault } from '../storage/schema';
import { statusView } from './views';

export async function lastOutgoingStatus(vault: Vault, username: Username): Promise<MessageStatus | undefined> {
  const range = IDBKeyRange.bound([username, 0], [username, Number.MAX_SAFE_INTEGER]);
  const tx = vault.db.transaction('messages', 'readonly');
  const cursor = await tx.store.index('byChat').openCursor(range, 'prev');
  const row = cursor?.value;
  await tx.done;
  return row?.direction === 'out' ? statusView(row.status) : undefined;
}

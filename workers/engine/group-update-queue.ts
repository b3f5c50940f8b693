/**
 * Queues one pairwise group update (wire content kind 0x09) to a member; the ratchet encrypts it
 * when the outbox flushes, for the identity trusted then (outbox-repo.ts `addOutbox`). A leaf
 * module so every group module can call it without an import cycle through group-apply.ts.
 */
import type { Username } from '../../src/lib/codec/username';
import { encodeContent } from '../../src/lib/wire/content';
import { encodeGroupUpdate, type GroupUpdate } from '../../src/lib/wire/group-content';
import { addOutbox } from '../storage/outbox-repo';
import type { Tx } from '../storage/schema';

export async function queueUpdate(tx: Tx, username: Username, update: GroupUpdate): Promise<void> {
  await addOutbox(tx, { username, content: encodeContent({ kind: 'group', update: encodeGroupUpdate(update) }) });
}

/**
 * Removing one group message row (README "Groups": message actions, delete for me; SECURITY.md
 * P44): the row and its search entry go in the caller's transaction, so no copy of its words is
 * left in the index. Knows nothing of who may delete what (workers/engine/group-actions.ts).
 */
import { forgetMessage } from './search-repo';
import type { Tx } from './schema';

export async function deleteGroupMessageRow(tx: Tx, key: string): Promise<void> {
  await tx.objectStore('groupMessages').delete(key);
  await forgetMessage(tx, key, true);
}

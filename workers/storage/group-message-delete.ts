/**
 * Removing one group message row (README "Groups": message actions, delete for me; SECURITY.md
 * P44): the row, its search entry and our copy of its file (file-repo.ts) go in the caller's
 * transaction, so no copy of its words or its file is left. Knows nothing of who may delete what (workers/engine/group-actions.ts).
 */
import { groupOwner, txDropFile } from './file-repo';
import { forgetMessage } from './search-repo';
import type { Tx } from './schema';

export async function deleteGroupMessageRow(tx: Tx, key: string): Promise<void> {
  await tx.objectStore('groupMessages').delete(key);
  await forgetMessage(tx, key, true);
  await txDropFile(tx, groupOwner(key));
}

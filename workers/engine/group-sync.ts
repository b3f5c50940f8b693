/**
 * The group state blob on the host (README "Groups": "Secrets and what the host keeps"; P19).
 * After a change we wrote, we reseal the history (its path to the head) under the master key and
 * replace the blob at the address the master key derives, with the write token it derives. A
 * member that learns it is behind (a member's message names a newer head, or a message under a
 * sender key it was never given) fetches the blob and MERGES its changes into the history it
 * already trusts (`receiveChanges`): the blob gives no authority, so a host that rewrites,
 * replays or withholds it can hold news back, never add a member or roll a removal back.
 */
import { canonicalChanges, receiveChanges } from '../../src/lib/crypto/group/group-history';
import { openStateBlob, sealStateBlob } from '../../src/lib/crypto/group/state-blob';
import { stateBlobKeys } from '../../src/lib/crypto/group/group-secret';
import { isCodedError } from '../../src/lib/codec/errors';
import { putGroup, txGetGroup } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { afterHistoryChange, groupIdBytes } from './group-apply';
import { noteUndone, voidedOurs } from './group-undone';
import { isEngineError } from './errors';
import { uploadInviteBlob } from './group-invite-blob';

/** Reseals and uploads the blob; best effort (the next change or a member's sync repairs a miss). */
export async function uploadStateBlob(ctx: EngineContext, id: string): Promise<boolean> {
  requireMe(ctx);
  if (!ctx.transport.putGroupBlob) return false;
  const g = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  if (!g) return false;
  const blob = sealStateBlob(g.history, g.masterKey, ctx.deps);
  try {
    await ctx.transport.putGroupBlob(blob.address, blob.writeToken, blob.sealed);
    // Admins also keep the invite link's blob current (group-invite-blob.ts).
    await uploadInviteBlob(ctx, id);
    return true;
  } catch (e) {
    if (isEngineError(e, 'Unavailable') || isCodedError(e)) return false;
    throw e;
  }
}

export type SyncOutcome = 'advanced' | 'unchanged' | 'unavailable' | 'unreadable';

/**
 * Fetches the blob and merges what it holds. Refused changes (not signed by a member, not
 * allowed, rolled back) are dropped one by one, exactly as if they had come pairwise.
 */
export async function syncFromBlob(ctx: EngineContext, id: string): Promise<SyncOutcome> {
  const me = requireMe(ctx);
  if (!ctx.transport.getGroupBlob) return 'unavailable';
  const first = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  if (!first) return 'unchanged';
  let sealed: Uint8Array | undefined;
  try {
    sealed = await ctx.transport.getGroupBlob(stateBlobKeys(first.masterKey, groupIdBytes(first)).address);
  } catch (e) {
    if (isCodedError(e)) return 'unavailable';
    throw e;
  }
  if (!sealed) return 'unavailable';
  let changes;
  try {
    const parts = openStateBlob(sealed, first.masterKey, groupIdBytes(first));
    changes = [...parts.changes, ...parts.orphans];
  } catch (e) {
    if (isCodedError(e)) return 'unreadable';
    throw e;
  }
  const outcome = await ctx.serial(() =>
    commit(ctx.vault, async (tx): Promise<SyncOutcome> => {
      const g = await txGetGroup(tx, id);
      if (!g) return 'unchanged';
      const before = g.history.head;
      const known = new Set(g.history.canonical);
      const merged = receiveChanges(g.history, changes).history;
      if (merged.canonical.join() === g.history.canonical.join()) return 'unchanged';
      const added = canonicalChanges(merged).filter((_, i) => !known.has(merged.canonical[i]!));
      const next = await afterHistoryChange(ctx, tx, me, { ...g, history: merged }, before, added);
      await putGroup(tx, await noteUndone(ctx, tx, next, voidedOurs(g.history, merged, me.username), Math.max(next.lastAt, ctx.deps.now())));
      return 'advanced';
    })
  );
  if (outcome === 'advanced') {
    ctx.events.emit({ type: 'group', id });
    ctx.events.emit({ type: 'chats' });
    ctx.kickOutbox();
  }
  return outcome;
}

/**
 * May we write to this group now? One rule for every group send — a text, a file, a reply, a
 * reaction, an edit or a delete (README "Groups"): we must be a member with a sender key (P21),
 * and no member's message may have shown a group version we have not reached (P19: a withheld
 * change), so the state blob is read first when one did. Writing in a group request accepts it
 * (P42), as a reply to a 1:1 request does.
 */
import { address } from '../../src/lib/crypto/group/address';
import { findMember } from '../../src/lib/crypto/group/group-state';
import type { Username } from '../../src/lib/codec/username';
import { txGetGroup, type GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { engineFail } from './errors';
import { acceptGroupInTx } from './group-request-state';
import { syncFromBlob } from './group-sync';

/** Before a send's transaction: a group a member showed to be ahead of us is caught up from its blob. */
export async function catchUpBeforeSend(ctx: EngineContext, id: string): Promise<void> {
  const peek = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  if (!peek) engineFail('NoSuchGroup', 'no such group');
  if (peek.seenVersion > peek.history.head.version) await syncFromBlob(ctx, id);
}

/** Refuses unless `me` may write to `g` now. */
export function requireSendable(me: Username, g: GroupRecord | undefined): GroupRecord {
  if (!g) return engineFail('NoSuchGroup', 'no such group');
  const head = g.history.head;
  if (!g.our || !findMember(head, address(me))) return engineFail('NotGroupMember', 'we are not a member of this group');
  if (g.seenVersion > head.version) return engineFail('GroupOutOfDate', `a member is at version ${g.seenVersion}, we are at ${head.version}`);
  return g;
}

/** In the send's transaction: the group, accepted if it was a request, once `me` may write to it. */
export async function sendableInTx(ctx: EngineContext, tx: Tx, id: string, me: Username): Promise<GroupRecord> {
  const found = await txGetGroup(tx, id);
  return requireSendable(me, found && (await acceptGroupInTx(ctx, tx, found)));
}

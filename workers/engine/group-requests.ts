/**
 * Group requests (SECURITY.md P42 message requests; README "Groups": group requests), as Signal's:
 * a group someone we have not accepted added us to is a request. Its messages are stored and
 * readable, but until we accept, nothing about us leaves this device for it:
 *   - no delivery or read receipts to any member (group-messages.ts, group-receipts.ts);
 *   - no profile key: it goes only with our sender key, i.e. when we send, which accepts
 *     (group-apply.ts `distributeSenderKey`), or on Accept;
 *   - no typing notices (groups have none at all, typing.ts is 1:1 only).
 * Who is "accepted" is 1:1's rule (requests.ts `isAcceptedContact`: someone we wrote to or
 * accepted). Creating a group, joining by a link we opened (our own `joinByLink`, or an admin
 * approving our request to join) are accepted; a PIN restore keeps a request one (record version 4).
 *
 * Accept: the flag goes, the members get our profile key, and what arrived meanwhile is
 * acknowledged (delivered, or read if we read it), as 1:1 acceptInTx. Delete: we leave (a signed
 * leave, sent as any; as the only admin, handing admin on first) and the group, its messages and
 * their search entries go from this device.
 * Block: the adder is blocked (engine-requests.ts, which also rotates our profile key, P43), then
 * as Delete. Who is a request, and accepting inside a transaction: group-request-state.ts.
 * Knows nothing of the host or the UI.
 */
import { fail } from '../../src/lib/codec/errors';
import { address } from '../../src/lib/crypto/group/address';
import { findMember, Role, type Member } from '../../src/lib/crypto/group/group-state';
import type { Username } from '../../src/lib/codec/username';
import { deleteGroupMessageRow } from '../storage/group-message-delete';
import { putGroup, txGetGroup, type GroupRecord } from '../storage/group-repo';
import { forgetChat } from '../storage/search-repo';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { txForgetPlace } from './unsent-files';
import { changeGroup, requireGroup, leaveGroup } from './group-ops';
import { shareProfileKeyWithMembers } from './group-profile-key';
import { groupRecipients } from './group-recipients';
import { acceptGroupInTx } from './group-request-state';

/** Accept: receipts for what arrived, and our profile key to the members (P42, P43). */
export async function acceptGroupRequest(ctx: EngineContext, id: string): Promise<void> {
  const me = requireMe(ctx);
  await requireGroup(ctx, id);
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const g = await txGetGroup(tx, id);
      if (!g?.requestFrom) return;
      const next = await acceptGroupInTx(ctx, tx, g);
      if (findMember(next.history.head, address(me.username))) await shareProfileKeyWithMembers(ctx, tx, await groupRecipients(tx, next.history.head, me.username));
      await putGroup(tx, next);
    })
  );
  ctx.events.emit({ type: 'group', id });
  ctx.events.emit({ type: 'chats' });
  ctx.kickOutbox();
}

/**
 * Our signed leave, if we are still a member. As the only admin (the core refuses that leave,
 * LastAdmin, P19) the same change first makes the longest-standing other member an admin (the
 * adder last: we refused their group), so Delete never leaves the others without an admin.
 */
async function leaveRequest(ctx: EngineContext, g: GroupRecord, me: Username): Promise<void> {
  const ours = findMember(g.history.head, address(me));
  if (!ours) return;
  const others = g.history.head.members.filter((m) => m.address.username !== me);
  if (ours.role !== Role.admin || others.length === 0 || others.some((m) => m.role === Role.admin)) return leaveGroup(ctx, g.id);
  const adderLast = (m: Member) => (m.address.username === g.requestFrom ? 1 : 0);
  const [heir] = [...others].sort((x, y) => adderLast(x) - adderLast(y) || x.joinedAt - y.joinedAt || (x.address.username < y.address.username ? -1 : 1));
  await changeGroup(ctx, g.id, [{ type: 'setRole', address: heir!.address, role: Role.admin }, { type: 'leave' }]);
}

/** Delete: leave (if still a member), then the group and all of it goes from this device. */
export async function deleteGroupRequest(ctx: EngineContext, id: string): Promise<void> {
  const me = requireMe(ctx);
  const g = await requireGroup(ctx, id);
  if (!g.requestFrom) engineFail('NoSuchGroup', 'no group request with this id');
  await leaveRequest(ctx, g, me.username);
  await forgetGroup(ctx, id);
}

/**
 * Delete a group we are no longer in (we left, or were removed), as WhatsApp's "Delete group"
 * after "Exit group": local and silent, nothing is sent. A member leaves first (P19: leaving is a
 * signed change the others must see; deleting must never look like leaving to them).
 */
export async function deleteLeftGroup(ctx: EngineContext, id: string): Promise<void> {
  const me = requireMe(ctx);
  const g = await requireGroup(ctx, id);
  if (findMember(g.history.head, address(me.username))) return fail('InvalidArgument', 'leave the group before deleting it');
  await forgetGroup(ctx, id);
}

/** The group and all of it goes from this device: messages with their search entries and file copies, the record, unsent notes. */
async function forgetGroup(ctx: EngineContext, id: string): Promise<void> {
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const range = IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]);
      for (const k of await tx.objectStore('groupMessages').index('byGroup').getAllKeys(range)) await deleteGroupMessageRow(tx, String(k));
      await forgetChat(tx, id, true);
      await tx.objectStore('groups').delete(id);
      await txForgetPlace(tx, { kind: 'group', id });
    })
  );
  ctx.events.emit({ type: 'chats' });
}

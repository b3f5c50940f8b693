/**
 * Our group changes that a simultaneous change undid (README "Groups"; SECURITY.md P19): when two
 * admins change a group at the same moment, the fork choice keeps one branch and *voids* the other
 * (group-history.ts), so "add carol" can vanish while its author believes it done. Signal's
 * clients re-sign a change the server refused as stale; here the void is learned from someone
 * else's change, and by this module's rule a received change never makes this client write to
 * anyone (group-apply.ts). So the user is told and asked instead:
 *
 *   - on every history change, our changes that were on the path to the head and no longer are,
 *     whose actions still apply at the new head (`rebaseActions`), leave a notice naming what was
 *     undone and are kept (encoded, at most MAX_UNDONE) on the group record;
 *   - "Try again" (group-ops.ts `answerUndone`) signs what still applies at the head then, as one
 *     new change through the ordinary path (`changeGroup`), and forgets the rest; "Dismiss" only
 *     forgets.
 *
 * A join by link is never kept: it needs the link's signature, which the retry cannot add.
 */
import { address, sameAddress } from '../../src/lib/crypto/group/address';
import { changeId, decodeGroupChange, encodeGroupChange, type GroupAction, type GroupChange } from '../../src/lib/crypto/group/group-change';
import { canonicalChanges, rebaseActions, type GroupHistory } from '../../src/lib/crypto/group/group-history';
import type { Username } from '../../src/lib/codec/username';
import type { GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import type { EngineContext } from './context';
import { putNotice } from './group-apply';

/** Undone changes kept for a retry; older ones are dropped (their notices stay). */
export const MAX_UNDONE = 8;

/** Changes of `me` on `before`'s path to its head that are not on `after`'s. */
export function voidedOurs(before: GroupHistory, after: GroupHistory, me: Username): GroupChange[] {
  const now = new Set(after.canonical);
  const ours = address(me);
  return canonicalChanges(before).filter((c, i) => !now.has(before.canonical[i]!) && sameAddress(c.author, ours));
}

/** What still applies of `c` at `h`'s head, never a join by link. */
function stillToDo(h: GroupHistory, c: GroupChange): GroupAction[] {
  return rebaseActions(h, { ...c, actions: c.actions.filter((a) => a.type !== 'joinByLink') });
}

/** Words for the notice: "adding carol, renaming the group to “Trip”". */
export function describeActions(actions: readonly GroupAction[]): string {
  return actions
    .map((a) => {
      switch (a.type) {
        case 'addMember':
          return `adding ${a.address.username}`;
        case 'removeMember':
          return `removing ${a.address.username}`;
        case 'setRole':
          return `making ${a.address.username} ${a.role === 'admin' ? 'an admin' : 'a member'}`;
        case 'leave':
          return 'leaving the group';
        case 'setName':
          return `renaming the group to “${a.name}”`;
        case 'setDescription':
          return 'changing the description';
        case 'setAvatar':
          return a.avatar ? 'changing the picture' : 'removing the picture';
        case 'setAccess':
          return a.setting === 'editInfo' ? 'changing who may edit the info' : 'changing who may add members';
        case 'setInviteLink':
          return a.invite ? 'changing the invite link' : 'turning the invite link off';
        case 'approveJoin':
          return `approving ${a.address.username}`;
        case 'denyJoin':
          return `declining ${a.address.username}`;
        case 'joinByLink':
          return 'joining by the link';
      }
    })
    .join(', ');
}

/**
 * Inside the transaction that stores `g` (whose history is already the new one): notes each of
 * `voided` (ours, from `voidedOurs`) whose actions still apply. Answers the record to store.
 */
export async function noteUndone(ctx: EngineContext, tx: Tx, g: GroupRecord, voided: readonly GroupChange[], at: number): Promise<GroupRecord> {
  // No longer a member: nothing of ours can be signed again.
  if (voided.length === 0 || !g.our) return g;
  let kept = g.undone ?? [];
  for (const c of voided) {
    const left = stillToDo(g.history, c);
    if (left.length === 0) continue;
    const id = changeId(c);
    if (kept.some((k) => changeId(decodeGroupChange(k)) === id)) continue;
    await putNotice(ctx, tx, g, 'undone', '', at, describeActions(left));
    kept = [...kept, encodeGroupChange(c)].slice(-MAX_UNDONE);
  }
  return kept === g.undone ? g : { ...g, undone: kept };
}

/** What "Try again" would sign now: the kept changes' actions that still apply at the head, in order. */
export function undoneToRetry(g: GroupRecord): GroupAction[] {
  const kept = (g.undone ?? []).map((k) => decodeGroupChange(k));
  if (kept.length === 0) return [];
  const all = kept.flatMap((c) => c.actions);
  // A leave must be a change's last action: whatever else is asked for is signed before it.
  const ordered = [...all.filter((a) => a.type !== 'leave'), ...all.filter((a) => a.type === 'leave').slice(0, 1)];
  return stillToDo(g.history, { ...kept.at(-1)!, actions: ordered });
}

/** The record without kept undone changes. */
export function forgetUndone(g: GroupRecord): GroupRecord {
  const { undone: _gone, ...rest } = g;
  return rest;
}

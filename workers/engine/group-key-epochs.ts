/**
 * Master key rotation in the engine (crypto/group/key-epochs.ts; README "Groups": master key
 * rotation): a former member must not go on reading the state blob (name, members) after it was
 * taken out.
 *
 *   - we remove someone: our change goes to the members who stay with a fresh master key bound
 *     to it (group-ops.ts changeGroup), in the same pairwise update;
 *   - someone leaves: its first admin owes the key, and gives it with its next change or group
 *     message (`payOwedEpoch`, the user's own action; as sender keys, a received change never makes
 *     us write to anyone);
 *   - receiving: a key bound to a change is taken only from that change's rotator, once
 *     (`takeEpoch`); a welcome back into a group we had left replaces our base key;
 *   - the rotator also writes a signed key handoff at the old key's address (`sealOwedHandoff`),
 *     from which a member that missed the pairwise update takes its key (`keyFromHandoff`);
 *   - a member that learnt of an exclusion and waits for its key writes no blob meanwhile
 *     (group-apply.ts sets `awaiting`, group-sync.ts holds the blob back and writes it once the
 *     key comes, or after AWAIT_KEY_MS).
 *
 * The blob is sealed and opened with `blobKey`; welcomes hand out that key too.
 */
import { address, sameAddress, type Address } from '../../src/lib/crypto/group/address';
import { changeId, encodeGroupChange, type GroupChange } from '../../src/lib/crypto/group/group-change';
import { generateMasterKey } from '../../src/lib/crypto/group/group-secret';
import { findMember } from '../../src/lib/crypto/group/group-state';
import { acceptsEpoch, currentEpoch, currentMasterKey, owedEpoch, rotatorOf, withEpoch } from '../../src/lib/crypto/group/key-epochs';
import type { GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import { queueUpdate } from './group-update-queue';
import { fromHex } from '../../src/lib/codec/bytes';
import type { EngineContext, Me } from './context';
import { isCodedError } from '../../src/lib/codec/errors';
import { canonicalChanges, receiveChanges, startHistory } from '../../src/lib/crypto/group/group-history';
import { encodeGroupHistory } from '../../src/lib/crypto/group/group-history-codec';
import { handedKey, makeHandoff, type Handoff } from '../../src/lib/crypto/group/key-handoff';
import { sealHandoffBlob } from '../../src/lib/crypto/group/state-blob';

/** The master key that seals and opens this group's state blob now. */
export function blobKey(g: GroupRecord): Uint8Array {
  return currentMasterKey(g.history, g.masterKey, g.epochs);
}

/**
 * A fresh key for change `c` (ours to make), in the record; the caller hands it out pairwise, and
 * the handoff to it is written at the old key's address after the commit (`sealOwedHandoff`,
 * called by group-sync.ts uploadStateBlob).
 */
export function newEpoch(ctx: EngineContext, g: GroupRecord, c: GroupChange): { group: GroupRecord; key: Uint8Array } {
  const key = generateMasterKey(ctx.deps);
  const id = changeId(c);
  return { group: { ...g, epochs: withEpoch(g.epochs ?? [], { change: id, version: c.baseVersion + 1, key }), handoff: { change: id, oldKey: blobKey(g) } }, key };
}

/**
 * The sealed handoff our record still owes the old key's address (key-handoff.ts), or undefined
 * (none, or its change was voided meanwhile: then nothing is written, and `handoff` is dropped).
 */
export function sealOwedHandoff(ctx: EngineContext, me: Me, g: GroupRecord): { address: Uint8Array; writeToken: Uint8Array; nextToken: Uint8Array; sealed: Uint8Array } | undefined {
  const owed = g.handoff;
  if (!owed) return undefined;
  const i = g.history.canonical.indexOf(owed.change);
  const key = (g.epochs ?? []).find((e) => e.change === owed.change)?.key;
  if (i < 0 || !key) return undefined;
  const upTo = receiveChanges(startHistory(g.history.anchor), canonicalChanges(g.history).slice(0, i + 1)).history;
  const handoff = makeHandoff(
    { groupId: fromHex(g.id), change: owed.change, history: encodeGroupHistory(upTo, { branches: false }), after: upTo.head, key, rotator: { address: address(me.username), identity: me.identity } },
    ctx.deps
  );
  return sealHandoffBlob(handoff, owed.oldKey, key, fromHex(g.id), ctx.deps);
}

/**
 * Takes our key from a handoff found at our key's address, after its history was merged into
 * `g`: only if its change is on our path, we are a member, and it is signed by that change's
 * rotator in OUR history. Undefined if it gives us nothing (no entry: we were taken out).
 */
export function keyFromHandoff(g: GroupRecord, h: Handoff, me: Me): GroupRecord | undefined {
  const ours = address(me.username);
  const edge = g.history.edges.get(h.change);
  const rotator = rotatorOf(g.history, h.change);
  if (!edge || !rotator) return undefined;
  try {
    const key = handedKey(g.history, h, { groupId: fromHex(g.id), us: ours, identity: me.identity });
    if (!key) return undefined;
    const next = takeEpoch(g, edge.change, key, rotator, ours);
    return next === g ? undefined : next;
  } catch (e) {
    if (isCodedError(e)) return undefined; // not the rotator's: a former member's forgery
    throw e;
  }
}

/**
 * Before a change or group message of ours: if the newest exclusion on the path is a leave whose
 * key is ours to make (or a removal of ours from before keys rotated), make it and queue it, with
 * the change it is bound to, to every member of the head but us.
 */
export async function payOwedEpoch(ctx: EngineContext, tx: Tx, me: Me, g: GroupRecord): Promise<GroupRecord> {
  const ours = address(me.username);
  if (!findMember(g.history.head, ours)) return g;
  const owed = owedEpoch(g.history, g.epochs ?? [], ours);
  if (!owed) return g;
  const { group, key } = newEpoch(ctx, g, owed);
  const change = encodeGroupChange(owed);
  for (const m of g.history.head.members) {
    if (!sameAddress(m.address, ours)) await queueUpdate(tx, m.address.username, { groupId: fromHex(g.id), change, masterKey: key });
  }
  return group;
}

/** Who a change brings in: added members, a link joiner (its author), an approved joiner. */
function newcomersOf(c: GroupChange): Address[] {
  return c.actions.flatMap((a) => (a.type === 'addMember' || a.type === 'approveJoin' ? [a.address] : a.type === 'joinByLink' ? [c.author] : []));
}

/**
 * As the rotator of the key in use: gives it to members another member brought in after our
 * exclusion. Their welcomer may still have been waiting for our key (a withheld update, a leave
 * whose key came later) and so welcomed them with the older one, which the former member holds.
 * They take it only from us and only once (`takeEpoch`); one welcomed with it already just holds
 * it twice. Called with the changes a merge added (group-apply.ts afterHistoryChange).
 */
export async function giveEpochToNewcomers(tx: Tx, me: Me, g: GroupRecord, added: readonly GroupChange[]): Promise<void> {
  const ours = address(me.username);
  const epoch = currentEpoch(g.history, g.epochs ?? []);
  const rotator = epoch && rotatorOf(g.history, epoch.change);
  const at = epoch ? g.history.canonical.indexOf(epoch.change) : -1;
  if (!epoch || !rotator || !sameAddress(rotator, ours) || at < 0) return;
  const change = encodeGroupChange(g.history.edges.get(epoch.change)!.change);
  for (const c of added) {
    if (sameAddress(c.author, ours) || g.history.canonical.indexOf(changeId(c)) <= at) continue;
    for (const n of newcomersOf(c)) {
      if (!sameAddress(n, ours) && findMember(g.history.head, n)) await queueUpdate(tx, n.username, { groupId: fromHex(g.id), change, masterKey: epoch.key });
    }
  }
}

/** A key `from` sent bound to change `c` (already merged into `g`): kept if `from` is its rotator and we are a member. */
export function takeEpoch(g: GroupRecord, c: GroupChange, key: Uint8Array, from: Address, ours: Address): GroupRecord {
  const id = changeId(c);
  if (!findMember(g.history.head, ours) || !acceptsEpoch(g.history, g.epochs ?? [], id, from)) return g;
  return { ...g, epochs: withEpoch(g.epochs ?? [], { change: id, version: c.baseVersion + 1, key: key.slice() }) };
}

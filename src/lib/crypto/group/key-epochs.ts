/**
 * Which master key reads and writes a group's state blob (README "Groups": master key rotation;
 * DESIGN.md §9: a former member must not go on reading the group's name and members).
 *
 * The master key a member was given (at creation or in its welcome) is its BASE key. Every change
 * that takes someone out of the group (a removal or a leave) starts a new key EPOCH: one member,
 * its ROTATOR, makes a fresh random master key and gives it pairwise, inside the 1:1 ratchet, to
 * the members of the state after the change, bound to that change's id. The excluded member never
 * receives it, so the blob sealed under it, at the address it derives, is unreadable to them.
 *
 *   rotator of change X = X's author, if X removes someone and its author stays;
 *                         else (X is a leave) the first admin, in member order, of the state after X
 *
 * One rotator per change, fixed by the signed change itself, so all members who receive the key of
 * X hold the same key: no tie to break. Epochs are taken only from that member (`acceptsEpoch`).
 *
 * The key in use is that of the newest live epoch (highest version), else the base key. An epoch
 * is live while its change is on the path to the head, or once it sank below the history's anchor
 * (pruned, no longer in the tree: the fork choice never reorganises below the anchor). An epoch
 * whose change was voided by a simultaneous change is dead: its key is not used.
 *
 * A member that learnt of an exclusion and waits for its key (its rotator is offline, or the
 * pairwise update is still on its way) writes no blob meanwhile (`awaitsEpoch`): under the key it
 * has, the excluded member could read it, and at the old key's address it would replace the
 * rotator's handoff. What is NOT guaranteed (README "Groups", known limits): a newcomer welcomed
 * by such a member gets that older key until the rotator sees it come in and gives it the new one
 * (the engine's giveEpochToNewcomers), and a member whose exclusion's rotator has gone too writes
 * under the older key until the next exclusion. Pure: no storage.
 */
import { sameAddress, type Address } from './address';
import type { GroupChange } from './group-change';
import type { GroupHistory } from './group-history';
import { findMember } from './group-state';

export interface KeyEpoch {
  /** Id (hex) of the change that took someone out. */
  readonly change: string;
  /** Version of the state after that change. */
  readonly version: number;
  readonly key: Uint8Array;
}

/** Epochs kept per group; older ones can no longer be the newest live one in practice. */
export const MAX_KEY_EPOCHS = 8;

/** The change takes a member out of the group (a removal, or its author leaving). */
export function excludes(c: GroupChange): boolean {
  return c.actions.some((a) => a.type === 'removeMember' || a.type === 'leave');
}

/** Who makes the key of change `id` (on any branch of `h`), or undefined if it takes no one out or no one can. */
export function rotatorOf(h: GroupHistory, id: string): Address | undefined {
  const edge = h.edges.get(id);
  if (!edge || !excludes(edge.change)) return undefined;
  if (!edge.change.actions.some((a) => a.type === 'leave')) return edge.change.author;
  const after = h.nodes.get(edge.child);
  return after?.members.find((m) => m.role === 'admin')?.address;
}

function live(h: GroupHistory, e: KeyEpoch): boolean {
  return h.canonical.includes(e.change) || (!h.edges.has(e.change) && e.version <= h.anchor.version);
}

/** The newest live epoch, if any. */
export function currentEpoch(h: GroupHistory, epochs: readonly KeyEpoch[]): KeyEpoch | undefined {
  let best: KeyEpoch | undefined;
  for (const e of epochs) if (live(h, e) && (!best || e.version > best.version)) best = e;
  return best;
}

/** The master key that seals and opens the state blob now. */
export function currentMasterKey(h: GroupHistory, base: Uint8Array, epochs: readonly KeyEpoch[] = []): Uint8Array {
  return currentEpoch(h, epochs)?.key ?? base;
}

/**
 * May `from` hand us a key for change `id`? Only its rotator, only for a change on the path to the
 * head, and only once (the first key for a change stays: a replay changes nothing).
 */
export function acceptsEpoch(h: GroupHistory, epochs: readonly KeyEpoch[], id: string, from: Address): boolean {
  const rotator = rotatorOf(h, id);
  return rotator !== undefined && sameAddress(rotator, from) && h.canonical.includes(id) && !epochs.some((e) => e.change === id);
}

/** `epochs` with `e` added, the oldest dropped past MAX_KEY_EPOCHS. */
export function withEpoch(epochs: readonly KeyEpoch[], e: KeyEpoch): KeyEpoch[] {
  return [...epochs, e].sort((a, b) => b.version - a.version).slice(0, MAX_KEY_EPOCHS);
}

/**
 * The newest change on the path to the head whose key `us` owes the group: one that takes
 * someone out, of which we are the rotator, newer than every live epoch, with no key yet.
 */
export function owedEpoch(h: GroupHistory, epochs: readonly KeyEpoch[], us: Address): GroupChange | undefined {
  const newest = currentEpoch(h, epochs)?.version ?? -1;
  for (let i = h.canonical.length - 1; i >= 0; i--) {
    const id = h.canonical[i]!;
    const c = h.edges.get(id)!.change;
    if (c.baseVersion + 1 <= newest) return undefined;
    if (!excludes(c)) continue;
    const rotator = rotatorOf(h, id);
    // The newest exclusion decides: if its key is someone else's to make, we owe nothing.
    return rotator && sameAddress(rotator, us) && !epochs.some((e) => e.change === id) ? c : undefined;
  }
  return undefined;
}

/**
 * Is the key of change `id` still to come to us? It takes someone out, is on the path to the head
 * and newer than the newest live epoch, we hold no key for it, and its rotator is still a member
 * (a rotator who has gone never sends it: then the next exclusion's key is the one to wait for).
 */
export function awaitsEpoch(h: GroupHistory, epochs: readonly KeyEpoch[], id: string): boolean {
  const edge = h.edges.get(id);
  if (!edge || !excludes(edge.change) || !h.canonical.includes(id)) return false;
  if (epochs.some((e) => e.change === id) || edge.change.baseVersion + 1 <= (currentEpoch(h, epochs)?.version ?? -1)) return false;
  const rotator = rotatorOf(h, id);
  return rotator !== undefined && findMember(h.head, rotator) !== undefined;
}

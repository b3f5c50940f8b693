/**
 * Seal keys for sealed sender v3 (SECURITY.md P41; crypto/sealed-sender-v3.ts; README "Groups",
 * *Sealed sender v3*): with every distribution of our sender key, each member gets a fresh
 * random 32-byte seal key of its own, pairwise inside the ratchet (the same queued update), and
 * keeps it with our sender key; a rotation draws new ones for everyone and forgets the old.
 *
 * - Send (`v3SealKeys`): a group message goes as v3 only when every recipient is one we gave our
 *   CURRENT key to and we hold the seal key we gave it; else v2 (or the fan-out), as before.
 * - Receive (`sealKeyCandidates`): a v3 envelope names no sender, so every seal key we hold is a
 *   candidate, each with the account and pairwise identity its distribution came under.
 * Knows nothing of the wire layout of either upload.
 */
import { toHex } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { SEAL_KEY_LEN, type SealKeyCandidate } from '../../src/lib/crypto/sealed-sender-v3';
import type { GroupRecord } from '../storage/group-repo';
import type { Tx } from '../storage/schema';
import type { EngineContext } from './context';
import { queueUpdate } from './group-update-queue';
import { entryOf } from '../../src/lib/codec/by-name';

/** Queues `distribution` to each of `to`, each with a fresh seal key; answers the keys given. */
export async function giveSenderKey(
  ctx: EngineContext,
  tx: Tx,
  groupId: Uint8Array,
  to: readonly Username[],
  distribution: Uint8Array,
  extra: { keyRequest?: true } = {}
): Promise<Record<string, Uint8Array>> {
  const given: [Username, Uint8Array][] = [];
  for (const r of to) {
    const sealKey = ctx.deps.rng(SEAL_KEY_LEN);
    await queueUpdate(tx, r, { groupId, distribution, sealKey, ...extra });
    given.push([r, sealKey]);
  }
  // Object.fromEntries: "__proto__" stays an own entry (codec/by-name.ts).
  return Object.fromEntries(given);
}

/** The seal key of each of `to` (same order) when all hold our current key with one, else undefined. */
export function v3SealKeys(g: GroupRecord, to: readonly Username[]): Uint8Array[] | undefined {
  const keys: Uint8Array[] = [];
  const given = new Set(g.distributedTo);
  for (const u of to) {
    const k = given.has(u) ? entryOf(g.sealKeys, u) : undefined;
    if (!k) return undefined;
    keys.push(k);
  }
  return keys;
}

/**
 * Every seal key we hold that came with a sender key we still hold, and the identity it came under:
 * first each member's newest key in every group (what a new message uses), then the older ones
 * kept for late messages, so a typical open stops about halfway through the first part.
 */
export function sealKeyCandidates(groups: readonly GroupRecord[]): SealKeyCandidate[] {
  const newest: SealKeyCandidate[] = [];
  const older: SealKeyCandidate[] = [];
  for (const g of groups) {
    const seen = new Set<string>();
    // `theirs` holds each sender's newest distribution ahead of its older ones (group-updates.ts `keep`).
    for (const t of g.theirs) {
      const d = toHex(t.distributionId);
      const sealKey = g.sealFrom?.[d];
      const identity = g.keyFrom?.[d];
      if (!sealKey || !identity) continue;
      const username = t.theirAddress.username;
      (seen.has(username) ? older : newest).push({ sealKey, username, identity });
      seen.add(username);
    }
  }
  return [...newest, ...older];
}

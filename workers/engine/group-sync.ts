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
import type { GroupChange } from '../../src/lib/crypto/group/group-change';
import { decodeGroupHistoryParts } from '../../src/lib/crypto/group/group-history-codec';
import { awaitsEpoch, MAX_KEY_EPOCHS } from '../../src/lib/crypto/group/key-epochs';
import type { Handoff } from '../../src/lib/crypto/group/key-handoff';
import { openGroupBlob, sealStateBlob } from '../../src/lib/crypto/group/state-blob';
import { stateBlobKeys } from '../../src/lib/crypto/group/group-secret';
import { isCodedError } from '../../src/lib/codec/errors';
import { putGroup, txGetGroup, type GroupRecord } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext, type Me } from './context';
import { afterHistoryChange, groupIdBytes } from './group-apply';
import { noteUndone, voidedOurs } from './group-undone';
import { isEngineError } from './errors';
import { uploadInviteBlob } from './group-invite-blob';
import { blobKey, keyFromHandoff, sealOwedHandoff } from './group-key-epochs';

/**
 * Reseals and uploads the blob, and a key handoff we owe the old key's address (group-key-epochs.ts);
 * best effort (the next change or a member's sync repairs a miss).
 */
export async function uploadStateBlob(ctx: EngineContext, id: string): Promise<boolean> {
  const me = requireMe(ctx);
  if (!ctx.transport.putGroupBlob) return false;
  const g = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  if (!g) return false;
  // Not through ctx.serial (here and below): the outbox flush, which runs in it, calls this.
  const held = awaitingKey(g, ctx.deps.now());
  try {
    if (held) {
      // The excluded member could read it, and it would replace the rotator's handoff: held back
      // until the key arrives (key-epochs.ts awaitsEpoch), then written (`writeDeferredBlob`).
      if (!g.blobDeferred) await updateGroup(ctx, id, (now) => (now.awaiting === g.awaiting ? { ...now, blobDeferred: true } : undefined));
    } else await writeState(ctx, me, g);
    // Admins also keep the invite link's blob current (group-invite-blob.ts).
    await uploadInviteBlob(ctx, id);
    return !held;
  } catch (e) {
    if (isEngineError(e, 'Unavailable') || isCodedError(e)) return false;
    throw e;
  }
}

/** Puts the state blob (and the handoff we owe), then drops the flags that asked for them. */
async function writeState(ctx: EngineContext, me: Me, g: GroupRecord): Promise<void> {
  const blob = sealStateBlob(g.history, blobKey(g), ctx.deps);
  await ctx.transport.putGroupBlob!(blob.address, blob.writeToken, blob.sealed);
  if (g.handoff) {
    const handoff = sealOwedHandoff(ctx, me, g);
    if (handoff) await putHandoff(ctx, handoff);
  }
  if (!g.handoff && !g.awaiting && !g.blobDeferred) return;
  // A record written meanwhile from an older read keeps its flags, and the blob (and handoff) is
  // written once more.
  await updateGroup(ctx, g.id, (now) => {
    const { handoff, awaiting, awaitingSince, blobDeferred, ...rest } = now;
    return {
      ...rest,
      ...(handoff && handoff.change !== g.handoff?.change ? { handoff } : {}),
      // A newer exclusion learnt meanwhile is still waited for.
      ...(awaiting && awaiting !== g.awaiting ? { awaiting, awaitingSince, ...(blobDeferred ? { blobDeferred } : {}) } : {})
    };
  });
}

/**
 * Writes a key handoff at the old key's address and passes that address on to the new key's
 * handoff token, so the former member (who kept the old key and its write token) can no longer
 * replace it, nor can a member still writing under the old key (README "Master key rotation").
 * Refused with the old token: either our own earlier write went through (and the record kept the
 * flag), so the new token opens it, or someone holding the old token took the address first; then
 * it is given up (those members catch up pairwise or at the next rotation), never retried forever.
 */
async function putHandoff(ctx: EngineContext, h: { address: Uint8Array; writeToken: Uint8Array; nextToken: Uint8Array; sealed: Uint8Array }): Promise<void> {
  const refused = (e: unknown): boolean => isCodedError(e) && e.code === 'InvalidSignature';
  try {
    await ctx.transport.putGroupBlob!(h.address, h.writeToken, h.sealed, h.nextToken);
  } catch (e) {
    if (!refused(e)) throw e;
    try {
      await ctx.transport.putGroupBlob!(h.address, h.nextToken, h.sealed, h.nextToken);
    } catch (again) {
      if (!refused(again)) throw again;
    }
  }
}

/**
 * How long a member waits for an exclusion's key before it writes the blob under the key it has
 * (which the former member can read): a first admin who never acts again must not freeze the
 * blob that catching-up members and PIN restores read.
 */
export const AWAIT_KEY_MS = 3 * 24 * 3600_000;

/** We wait for the key of a change that took someone out (group-apply.ts sets `awaiting`), for at most AWAIT_KEY_MS. */
export function awaitingKey(g: GroupRecord, now: number): boolean {
  return g.awaiting !== undefined && now - (g.awaitingSince ?? 0) < AWAIT_KEY_MS && awaitsEpoch(g.history, g.epochs ?? [], g.awaiting);
}

/** Writes the blob held back while a key was awaited, once it is no longer (a key arrived, or the wait ended). */
export async function writeDeferredBlob(ctx: EngineContext, id: string): Promise<void> {
  const g = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  if (g?.blobDeferred && !awaitingKey(g, ctx.deps.now())) await uploadStateBlob(ctx, id);
}

/** Rewrites the stored record with `change(now)`, unless it returns undefined. */
async function updateGroup(ctx: EngineContext, id: string, change: (now: GroupRecord) => GroupRecord | undefined): Promise<void> {
  await commit(ctx.vault, async (tx) => {
    const now = await txGetGroup(tx, id);
    const next = now && change(now);
    if (next) await putGroup(tx, next);
  });
}

export type SyncOutcome = 'advanced' | 'unchanged' | 'unavailable' | 'unreadable';

/**
 * Fetches the blob at our master key's address and merges what it holds. Refused changes (not
 * signed by a member, not allowed, rolled back) are dropped one by one, exactly as if they had
 * come pairwise. A key handoff there (we missed a change that took someone out, and its key) is
 * merged the same way, our new key taken from it if the change's rotator signed it, and the blob
 * at the new key's address is read next: at most MAX_KEY_EPOCHS hops.
 */
export async function syncFromBlob(ctx: EngineContext, id: string): Promise<SyncOutcome> {
  const me = requireMe(ctx);
  if (!ctx.transport.getGroupBlob) return 'unavailable';
  let advanced = false;
  let outcome: SyncOutcome = 'unchanged';
  for (let hop = 0; hop <= MAX_KEY_EPOCHS; hop++) {
    const g = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
    if (!g) break;
    const key = blobKey(g);
    const opened = await fetchBlob(ctx, g, key);
    if (typeof opened === 'string') {
      outcome = opened;
      break;
    }
    const handoff = 'handoff' in opened ? opened.handoff : undefined;
    let changes: GroupChange[];
    try {
      const parts = 'state' in opened ? opened.state : decodeGroupHistoryParts(opened.handoff.history);
      changes = [...parts.changes, ...parts.orphans];
    } catch (e) {
      if (!isCodedError(e)) throw e;
      outcome = 'unreadable';
      break;
    }
    const step = await merge(ctx, me, id, changes, handoff);
    // A new key is progress too, even when its change was known already (a leave whose key we missed).
    advanced ||= step.advanced || step.rekeyed;
    if (!step.rekeyed) break;
  }
  if (advanced) {
    ctx.events.emit({ type: 'group', id });
    ctx.events.emit({ type: 'chats' });
    ctx.kickOutbox();
    await writeDeferredBlob(ctx, id);
  }
  return advanced ? 'advanced' : outcome;
}

async function fetchBlob(ctx: EngineContext, g: GroupRecord, key: Uint8Array): Promise<ReturnType<typeof openGroupBlob> | 'unavailable' | 'unreadable'> {
  let sealed: Uint8Array | undefined;
  try {
    sealed = await ctx.transport.getGroupBlob!(stateBlobKeys(key, groupIdBytes(g)).address);
  } catch (e) {
    if (isCodedError(e)) return 'unavailable';
    throw e;
  }
  if (!sealed) return 'unavailable';
  try {
    return openGroupBlob(sealed, key, groupIdBytes(g));
  } catch (e) {
    if (isCodedError(e)) return 'unreadable';
    throw e;
  }
}

/** Merges `changes` (and takes our key from `handoff`, if any) in one transaction. */
async function merge(ctx: EngineContext, me: Me, id: string, changes: readonly GroupChange[], handoff: Handoff | undefined): Promise<{ advanced: boolean; rekeyed: boolean }> {
  return ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      const g = await txGetGroup(tx, id);
      if (!g) return { advanced: false, rekeyed: false };
      const before = g.history.head;
      const known = new Set(g.history.canonical);
      const merged = receiveChanges(g.history, changes).history;
      const advanced = merged.canonical.join() !== g.history.canonical.join();
      let next = g;
      if (advanced) {
        const added = canonicalChanges(merged).filter((_, i) => !known.has(merged.canonical[i]!));
        next = await afterHistoryChange(ctx, tx, me, { ...g, history: merged }, before, added);
        next = await noteUndone(ctx, tx, next, voidedOurs(g.history, merged, me.username), Math.max(next.lastAt, ctx.deps.now()));
      }
      const rekeyed = handoff ? keyFromHandoff(next, handoff, me) : undefined;
      if (advanced || rekeyed) await putGroup(tx, rekeyed ?? next);
      return { advanced, rekeyed: rekeyed !== undefined };
    })
  );
}

/**
 * The invite blob on the host (README "Groups": invite links; SECURITY.md P19). An admin who
 * holds the link's secret keeps the blob at the link's address current: the group's history
 * sealed under the link's key, so a link holder sees the group (name, members) and can write a
 * join against a recent head while every admin is offline. Resetting or turning off the link
 * replaces the OLD link's blob with a sealed "closed" notice (state-blob.ts). Only master-key
 * holders can write either (the write token needs the master key); the host sees two opaque
 * addresses and padded sizes, never the secret (it lives only in the URL fragment and here).
 * Best effort, like the state blob: a miss is repaired by the next change an admin sees.
 */
import { bytesEqual } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import { address } from '../../src/lib/crypto/group/address';
import { inviteBlobWriteToken, inviteKeys } from '../../src/lib/crypto/group/group-secret';
import { isAdmin } from '../../src/lib/crypto/group/group-state';
import { sealInviteBlob, sealInviteClosed, type InviteClosed } from '../../src/lib/crypto/group/state-blob';
import { txGetGroup, type GroupRecord } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { isEngineError } from './errors';
import { groupIdBytes } from './group-apply';

async function put(ctx: EngineContext, g: GroupRecord, blob: { address: Uint8Array; sealed: Uint8Array }): Promise<boolean> {
  requireMe(ctx);
  if (!ctx.transport.putGroupBlob) return false;
  // Our base master key (or, restored, the one the record named): never a rotated one, so the
  // token stays the one the host was first given for this link (README "Groups": master key rotation).
  const token = inviteBlobWriteToken(g.linkKey ?? g.masterKey, groupIdBytes(g), blob.address);
  try {
    await ctx.transport.putGroupBlob(blob.address, token, blob.sealed);
    return true;
  } catch (e) {
    if (isEngineError(e, 'Unavailable') || isCodedError(e)) return false;
    throw e;
  }
}

/** Reseals the current link's blob if we are an admin holding a secret the head still names. */
export async function uploadInviteBlob(ctx: EngineContext, id: string): Promise<boolean> {
  const me = requireMe(ctx);
  const g = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  const secret = g?.inviteSecret;
  const invite = g?.history.head.invite;
  if (!g || !secret || !invite || !isAdmin(g.history.head, address(me.username))) return false;
  if (!bytesEqual(invite.publicKey, inviteKeys(secret).signing.publicKey)) return false;
  return put(ctx, g, sealInviteBlob(g.history, secret, ctx.deps));
}

/** Replaces an old link's blob with the sealed notice that it stopped working. */
export async function closeInviteBlob(ctx: EngineContext, g: GroupRecord, oldSecret: Uint8Array, why: InviteClosed): Promise<boolean> {
  return put(ctx, g, sealInviteClosed(oldSecret, why, ctx.deps));
}

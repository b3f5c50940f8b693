/**
 * Invite links (README "Groups": invite links; SECURITY.md P19). An admin draws a random invite
 * secret; the state gets only its public key (`setInviteLink`, a signed change), the secret stays
 * in the link's URL fragment and in the admins' sealed group records, and the host only ever sees
 * the blob address it derives (group-invite-blob.ts). Resetting draws a new secret (old joins no
 * longer verify: the state names a new key) and seals "closed" at the old address, so an old
 * link says "This link was reset". Turning on approval makes a join a pending request.
 *
 * A joiner opens the invite blob with the link (the link is the trust anchor), signs a
 * `joinByLink` with its identity AND the link's key against the head it was shown, checks it
 * against the core exactly as members will (`receiveChange`), and sends the change pairwise to
 * every member; any member applies it (P19 rules: only the link's policy admits it, versioned,
 * chained). An admin who sees a join land as membership welcomes the joiner (master key and
 * history, inside the 1:1 ratchet), as changeGroup does for members it adds; members give the
 * newcomer their sender keys with their next message, from then on (P21: nothing older).
 * Never logs or returns the secret except to an admin of the group, as the link itself.
 */
import { bytesEqual, toHex } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import { encodeIdentityPublic, identityPublic } from '../../src/lib/crypto/identity';
import { safetyNumber } from '../../src/lib/crypto/safety-number';
import { address } from '../../src/lib/crypto/group/address';
import { isGroupError } from '../../src/lib/crypto/group/errors';
import { createChange, encodeGroupChange } from '../../src/lib/crypto/group/group-change';
import { historyFromParts } from '../../src/lib/crypto/group/group-history-codec';
import { receiveChange, type GroupHistory } from '../../src/lib/crypto/group/group-history';
import { decodeInviteLink, encodeInviteLink, generateInviteSecret, inviteKeys } from '../../src/lib/crypto/group/group-secret';
import { findMember, findPending, isAdmin, type Access } from '../../src/lib/crypto/group/group-state';
import { InviteClosed, openInviteBlob } from '../../src/lib/crypto/group/state-blob';
import type { Username } from '../../src/lib/codec/username';
import type { InvitePreviewView, JoinRequestView } from '../../src/lib/vault/group-views';
import { getContact } from '../storage/contact-repo';
import { txGetGroup, type GroupRecord } from '../storage/group-repo';
import { commit } from '../storage/vault';
import { canonicalUsername } from './account';
import { lookupUser } from './contacts';
import { requireMe, type EngineContext, type Me } from './context';
import { engineFail, isEngineError } from './errors';
import { queueUpdate } from './group-update-queue';
import { closeInviteBlob, uploadInviteBlob } from './group-invite-blob';
import { changeGroup, requireGroup } from './group-ops';

/** Turns the link on with a fresh secret (a reset if one was on); answers the text after '#'. */
export async function createInviteLink(ctx: EngineContext, id: string, approval: boolean): Promise<string> {
  const old = await requireGroup(ctx, id);
  const secret = generateInviteSecret(ctx.deps);
  const { publicKey } = inviteKeys(secret).signing;
  // A new link's blob token derives from our master key; a restored link key was the old link's.
  await changeGroup(ctx, id, [{ type: 'setInviteLink', invite: { publicKey, approval } }], ({ linkKey: _old, ...g }) => ({ ...g, inviteSecret: secret }));
  await uploadInviteBlob(ctx, id);
  if (old.inviteSecret) await closeInviteBlob(ctx, { ...(await requireGroup(ctx, id)), ...(old.linkKey ? { linkKey: old.linkKey } : {}) }, old.inviteSecret, InviteClosed.reset);
  return encodeInviteLink(secret);
}

/** The current link (admins who hold its secret), or null. */
export async function inviteLink(ctx: EngineContext, id: string): Promise<string | null> {
  const me = requireMe(ctx);
  const g = await requireGroup(ctx, id);
  const invite = g.history.head.invite;
  if (!g.inviteSecret || !invite || !isAdmin(g.history.head, address(me.username))) return null;
  if (!bytesEqual(invite.publicKey, inviteKeys(g.inviteSecret).signing.publicKey)) return null;
  return encodeInviteLink(g.inviteSecret);
}

/** Same link, approval switched: the state keeps the key, so the link keeps working. */
export async function setInviteApproval(ctx: EngineContext, id: string, approval: boolean): Promise<void> {
  const g = await requireGroup(ctx, id);
  const invite = g.history.head.invite;
  if (!invite) engineFail('InviteLinkInvalid', 'the group has no invite link');
  if (invite.approval === approval) return;
  await changeGroup(ctx, id, [{ type: 'setInviteLink', invite: { publicKey: invite.publicKey, approval } }]);
}

export async function turnOffInviteLink(ctx: EngineContext, id: string): Promise<void> {
  const old = await requireGroup(ctx, id);
  if (!old.history.head.invite) return;
  await changeGroup(ctx, id, [{ type: 'setInviteLink', invite: null }], ({ inviteSecret: _gone, linkKey: _key, ...g }) => g);
  if (old.inviteSecret) await closeInviteBlob(ctx, { ...(await requireGroup(ctx, id)), ...(old.linkKey ? { linkKey: old.linkKey } : {}) }, old.inviteSecret, InviteClosed.off);
}

export function answerJoinRequest(ctx: EngineContext, id: string, raw: string, approve: boolean): Promise<void> {
  return changeGroup(ctx, id, [{ type: approve ? 'approveJoin' : 'denyJoin', address: address(canonicalUsername(raw)) }]);
}

export function setGroupAccess(ctx: EngineContext, id: string, setting: 'editInfo' | 'addMembers', access: Access): Promise<void> {
  return changeGroup(ctx, id, [{ type: 'setAccess', setting, access }]);
}

/** Pending requests for the info screen, each with its safety number. */
export function joinRequests(me: Me, g: GroupRecord): JoinRequestView[] {
  const ourIdentity = identityPublic(me.identity);
  return g.history.head.pending.map((p) => ({
    username: p.address.username,
    safetyNumber: safetyNumber({ ourUsername: me.username, ourIdentity, theirUsername: p.address.username, theirIdentity: p.identity })
  }));
}

interface Opened {
  secret: Uint8Array;
  history: GroupHistory;
}

/** Fetches and opens the link's blob; errors say only reset / invalid / unavailable (never the secret). */
async function openLink(ctx: EngineContext, fragment: string): Promise<Opened> {
  requireMe(ctx);
  let secret: Uint8Array;
  try {
    secret = decodeInviteLink(fragment.trim());
  } catch (e) {
    if (isCodedError(e)) engineFail('InviteLinkInvalid', 'not a Parley invite link');
    throw e;
  }
  if (!ctx.transport.getGroupBlob) engineFail('Unavailable', 'this host keeps no group blobs');
  const keys = inviteKeys(secret);
  const sealed = await ctx.transport.getGroupBlob(keys.address);
  if (!sealed) engineFail('InviteLinkInvalid', 'no group behind this link');
  let history: GroupHistory;
  try {
    history = historyFromParts(openInviteBlob(sealed, secret));
  } catch (e) {
    if (isGroupError(e, 'InviteLinkReset')) engineFail('InviteLinkReset', e.message);
    if (isCodedError(e)) engineFail('InviteLinkInvalid', 'the group behind this link does not open');
    throw e;
  }
  const invite = history.head.invite;
  // A blob whose head names another key (or none) is the admins' own word that this link stopped.
  if (!invite || !bytesEqual(invite.publicKey, keys.signing.publicKey)) engineFail('InviteLinkReset', 'the invite link was reset');
  return { secret, history };
}

export async function previewInvite(ctx: EngineContext, fragment: string): Promise<InvitePreviewView> {
  const me = requireMe(ctx);
  const { history } = await openLink(ctx, fragment);
  const head = history.head;
  const ours = address(me.username);
  const id = toHex(head.groupId);
  const local = await commit(ctx.vault, (tx) => txGetGroup(tx, id));
  const member = !!findMember(head, ours) || (!!local && !!findMember(local.history.head, ours));
  return {
    groupId: id,
    name: head.name,
    description: head.description,
    ...(head.avatar ? { avatar: head.avatar.slice() } : {}),
    memberCount: head.members.length,
    approval: head.invite?.approval ?? false,
    status: member ? 'member' : findPending(head, ours) ? 'pending' : 'none'
  };
}

/**
 * Signs and sends our join. Answers 'joined' (the joiner is a member once a member applies it;
 * the group appears with an admin's welcome) or 'pending' (approval on: an admin decides).
 */
export async function joinByInvite(ctx: EngineContext, fragment: string): Promise<'joined' | 'pending' | 'member'> {
  const me = requireMe(ctx);
  const { secret, history } = await openLink(ctx, fragment);
  const head = history.head;
  const ours = address(me.username);
  if (findMember(head, ours)) return 'member';
  if (findPending(head, ours)) return 'pending';
  const change = createChange({
    base: head,
    author: ours,
    authorIdentity: me.identity,
    actions: [{ type: 'joinByLink', identity: identityPublic(me.identity) }],
    inviteSigningKey: inviteKeys(secret).signing
  });
  // Refused here exactly as every member would refuse it; then nothing is sent.
  receiveChange(history, change);
  const to = await reachableMembers(ctx, history);
  const update = { groupId: head.groupId.slice(), change: encodeGroupChange(change) };
  await ctx.serial(() =>
    commit(ctx.vault, async (tx) => {
      for (const u of to) await queueUpdate(tx, u, update);
    })
  );
  ctx.kickOutbox();
  return head.invite?.approval ? 'pending' : 'joined';
}

/**
 * The members our join goes to: each looked up (a contact, not a chat) and kept only if the key
 * the host gives us for them is the identity in the signed state (P3: a host that swaps a bundle
 * gets nothing to decrypt).
 */
async function reachableMembers(ctx: EngineContext, history: GroupHistory): Promise<Username[]> {
  const me = requireMe(ctx);
  const out: Username[] = [];
  for (const m of history.head.members) {
    if (m.address.username === me.username) continue;
    try {
      await lookupUser(ctx, m.address.username, { openChat: false, fromBundle: true });
    } catch (e) {
      if (isEngineError(e, 'NoSuchUser')) continue;
      throw e;
    }
    const c = await getContact(ctx.vault, m.address.username);
    if (c && bytesEqual(c.identity, encodeIdentityPublic(m.identity))) out.push(m.address.username);
  }
  if (out.length === 0) engineFail('Unavailable', 'no member of the group could be reached');
  return out;
}

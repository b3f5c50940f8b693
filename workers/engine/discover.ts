/**
 * A new contact found by name (README "Design: private discovery"): the engine sends the name's
 * memory-hard lookup hash, with no credential, and records the identity key the answer carries,
 * trust on first use as for any new contact (DESIGN.md §4). The host learns neither the name in
 * clear nor who asked, and no one-time prekey of theirs is spent; the session (and the
 * authenticated bundle fetch) waits for the first message, when sessions.ts compares the
 * bundle's key with this one (P3: a host that answered a different key here than in the bundle
 * shows as a key change).
 *
 * `contactFromBundle` is the authenticated path, for a host whose index entry has no identity yet
 * and for group members (group-ops.ts, group-invite.ts): they are sent the group at once, so the
 * fetch tells the host no pair the sends do not, and a group of many new people must not run
 * into the lookups' per-address limit (P40).
 */
import { verifyBundle } from '../../src/lib/crypto/bundle';
import { decodeIdentityPublic, encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import type { Username } from '../../src/lib/codec/username';
import { newContact, putContact, txGetContact } from '../storage/contact-repo';
import { commit } from '../storage/vault';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { sendingSessions } from './sessions';

/** Records `username` as a contact from an anonymous lookup; NoSuchUser when the host has no such name. */
export async function discoverContact(ctx: EngineContext, username: Username): Promise<void> {
  const answer = await ctx.transport.lookup(usernameLookupHash(username));
  if (!answer.exists) engineFail('NoSuchUser', 'no account by that name');
  if (!answer.identity) return contactFromBundle(ctx, username);
  // Strict decode and the identity's own signature (P1) before anything is stored.
  const identity = encodeIdentityPublic(decodeIdentityPublic(answer.identity));
  await commit(ctx.vault, async (tx) => {
    // Another path (a message, another tab) may have made the contact meanwhile: it stands.
    if (!(await txGetContact(tx, username))) await putContact(tx, newContact(username, identity));
  });
}

/** Records `username` as a contact from their bundle (authenticated); in the driver tab, with a session. */
export async function contactFromBundle(ctx: EngineContext, username: Username): Promise<void> {
  const me = requireMe(ctx);
  if (ctx.driver) {
    await ctx.serial(() => sendingSessions(ctx, username));
    return;
  }
  const bundle = await ctx.transport.fetchBundle(hostAuth(me), username);
  verifyBundle(bundle, username);
  await commit(ctx.vault, async (tx) => {
    if (!(await txGetContact(tx, username))) await putContact(tx, newContact(username, encodeIdentityPublic(bundle.identity)));
  });
}

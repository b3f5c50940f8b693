/**
 * Getting a session to send on (DESIGN.md §4, §5): reuse the current one if it is with the
 * identity we trust, otherwise fetch a bundle, check it against the contact's trusted identity
 * (trust.ts) and start a new session with PQXDH.
 *
 * P2: if the contact is verified and the bundle's identity differs, the new identity is recorded
 * as pending, the user is told, and UntrustedIdentity is thrown BEFORE anything is encrypted.
 * P36: a bundle carrying an identity the user rejected starts no session at all.
 */
import { fail } from '../../src/lib/codec/errors';
import { encodeIdentityPublic } from '../../src/lib/crypto/identity';
import { initiateSession, type SessionState } from '../../src/lib/crypto/session';
import { bytesEqual } from '../../src/lib/codec/bytes';
import { verifyBundle } from '../../src/lib/crypto/bundle';
import { getContact, putContact } from '../storage/contact-repo';
import { updateChat } from '../storage/chat-repo';
import { putMessage } from '../storage/message-repo';
import { deleteSessions, loadSessions, putSessions, sealSessions } from '../storage/session-repo';
import { commit } from '../storage/vault';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { notice, NoticeKind } from './notices';
import { assertCanSend, observeIdentity } from './trust';
import type { Username } from '../../src/lib/codec/username';

/** True if `state` is a session with exactly the identity bytes `trusted`. */
export function sessionMatches(state: SessionState | undefined, trusted: Uint8Array): boolean {
  return state !== undefined && bytesEqual(encodeIdentityPublic(state.theirIdentity), trusted);
}

/**
 * Sessions for `username`, current first, the current one safe to encrypt on. Creates and
 * stores a new session (and contact) if needed. Runs inside ctx.serial.
 */
export async function sendingSessions(ctx: EngineContext, username: Username): Promise<SessionState[]> {
  const me = requireMe(ctx);
  // Note to self has no session: we never fetch our own bundle or encrypt to ourselves.
  if (username === me.username) fail('InvalidArgument', 'no session with our own username');
  // Both reads at once: this is on the path of every send, call set-up included. The sessions
  // come from this tab's cache (session-repo.ts); before starting a new one they are re-read.
  const [contact, cached] = await Promise.all([getContact(ctx.vault, username), loadSessions(ctx.vault, username, { cached: true })]);
  assertCanSend(contact);
  if (contact && sessionMatches(cached[0], contact.identity)) return cached;
  const sessions = await loadSessions(ctx.vault, username);
  if (contact && sessionMatches(sessions[0], contact.identity)) return sessions;

  const bundle = await ctx.transport.fetchBundle(hostAuth(me), username);
  // Signatures first (P1): an unsigned identity must not even become "pending".
  verifyBundle(bundle, username);
  const decision = observeIdentity(contact, username, encodeIdentityPublic(bundle.identity));
  if (decision.changed) {
    await commit(ctx.vault, async (tx) => {
      await putContact(tx, decision.contact);
      // A changed key is shown in the 1:1 chat; a first session (a group member's sender key, a
      // call) makes no chat: chats come from a message, a call entry or "New chat" (lookupUser).
      if (decision.identityChanged) {
        await putMessage(tx, notice(ctx, username, NoticeKind.identityChanged));
        await updateChat(tx, username, (c) => c);
      }
    });
    if (decision.identityChanged) ctx.events.emit({ type: 'identity', username });
  }
  if (decision.rejected) fail('UntrustedIdentity', 'the host serves a key the user rejected for this contact');
  assertCanSend(decision.contact);

  const state = initiateSession({ ourIdentity: me.identity, ourUsername: me.username, theirUsername: username, bundle }, ctx.deps);
  const next = [state, ...sessions];
  const record = await sealSessions(ctx.vault, username, next);
  await commit(ctx.vault, (tx) => putSessions(tx, record));
  return next;
}

/** Drops the sessions with `username` that run with the identity `identity` (a rejected key, P36). */
export async function dropSessionsWith(ctx: EngineContext, username: Username, identity: Uint8Array): Promise<void> {
  const sessions = await loadSessions(ctx.vault, username);
  const kept = sessions.filter((s) => !sessionMatches(s, identity));
  if (kept.length === sessions.length) return;
  const record = await sealSessions(ctx.vault, username, kept);
  await commit(ctx.vault, (tx) => putSessions(tx, record));
}

/** Forgets every session with `username` (a user-requested reset): the next send fetches a fresh bundle. */
export async function resetSessions(ctx: EngineContext, username: Username): Promise<void> {
  await commit(ctx.vault, (tx) => deleteSessions(tx, username));
}

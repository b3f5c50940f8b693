/**
 * Contacts as the user sees them (DESIGN.md §4 "Safety numbers"):
 * lookup by username, the safety number and QR payload, verification, accepting a key change,
 * blocking. Verification binds the key BYTES shown (P3): verifying while a change is pending
 * verifies the new key and makes it the trusted one.
 */
import { fail } from '../../src/lib/codec/errors';
import { decodeIdentityPublic, encodeIdentityPublic, identityPublic } from '../../src/lib/crypto/identity';
import { verifyBundle } from '../../src/lib/crypto/bundle';
import { qrPayload, safetyNumber, verifyQrPayload } from '../../src/lib/crypto/safety-number';
import { getContact, putContact } from '../storage/contact-repo';
import { updateChat } from '../storage/chat-repo';
import { putMessage } from '../storage/message-repo';
import type { ContactRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { canonicalUsername, hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { notice, NoticeKind, type NoticeKind as Kind } from './notices';
import { releaseHeld } from './outbox';
import { sendingSessions } from './sessions';
import { displayedIdentity } from './trust';
import { engineFail } from './errors';
import type { Username } from '../../src/lib/codec/username';
import type { ContactView } from '../../src/lib/vault/views';


async function requireContact(ctx: EngineContext, raw: string): Promise<ContactRecord> {
  const c = await getContact(ctx.vault, canonicalUsername(raw));
  if (!c) engineFail('NoSuchUser', 'no such contact');
  return c;
}

/**
 * Finds a user on the host, records their identity (trust on first use) and, in the driver tab,
 * starts the session right away so the safety number can be compared before the first message.
 */
export async function lookupUser(ctx: EngineContext, name: string): Promise<{ username: Username }> {
  const me = requireMe(ctx);
  const username = canonicalUsername(name);
  if (username === me.username) fail('InvalidArgument', 'that is your own username');
  const existing = await getContact(ctx.vault, username);
  if (!existing) {
    if (ctx.driver) {
      await ctx.serial(() => sendingSessions(ctx, username));
    } else {
      const bundle = await ctx.transport.fetchBundle(hostAuth(me), username);
      verifyBundle(bundle, username);
      await commit(ctx.vault, async (tx) => {
        await putContact(tx, { username, identity: encodeIdentityPublic(bundle.identity), verified: false, blocked: false, identityChanged: false });
      });
    }
  }
  await commit(ctx.vault, (tx) => updateChat(tx, username, (c) => c));
  ctx.events.emit({ type: 'chats' });
  return { username };
}

export async function contactInfo(ctx: EngineContext, name: string): Promise<ContactView> {
  const me = requireMe(ctx);
  const c = await requireContact(ctx, name);
  const input = {
    ourUsername: me.username,
    ourIdentity: identityPublic(me.identity),
    theirUsername: c.username,
    theirIdentity: decodeIdentityPublic(displayedIdentity(c))
  };
  return {
    username: c.username,
    safetyNumber: safetyNumber(input),
    qrPayload: qrPayload(input),
    verified: c.verified && !c.pendingIdentity,
    identityChanged: c.identityChanged || c.pendingIdentity !== undefined,
    sendBlocked: c.verified && c.pendingIdentity !== undefined,
    blocked: c.blocked
  };
}

async function saveContact(ctx: EngineContext, contact: ContactRecord, kind?: Kind): Promise<void> {
  await commit(ctx.vault, async (tx) => {
    await putContact(tx, contact);
    if (kind) {
      await putMessage(tx, notice(ctx, contact.username, kind));
      await updateChat(tx, contact.username, (c) => c);
    }
  });
  ctx.events.emit({ type: 'identity', username: contact.username });
}

/**
 * Marks the shown identity verified. With `scannedQr` (read from the other person's screen) the
 * payload must match the key bytes; without it the user vouches they compared the 60 digits.
 */
export async function markVerified(ctx: EngineContext, name: string, scannedQr?: string): Promise<ContactView> {
  const me = requireMe(ctx);
  const c = await requireContact(ctx, name);
  const shown = displayedIdentity(c);
  if (scannedQr !== undefined) {
    const verdict = verifyQrPayload(scannedQr, {
      ourUsername: me.username,
      ourIdentity: identityPublic(me.identity),
      theirUsername: c.username,
      theirIdentity: decodeIdentityPublic(shown)
    });
    if (verdict !== 'match') fail('UntrustedIdentity', `scanned code does not match (${verdict})`);
  }
  const next: ContactRecord = { ...c, identity: shown, verified: true, identityChanged: false };
  delete next.pendingIdentity;
  await saveContact(ctx, next, NoticeKind.verified);
  await releaseHeld(ctx, c.username);
  return contactInfo(ctx, c.username);
}

/** Accepts a pending key change without verifying: the new key is trusted, "verified" is cleared. */
export async function acceptIdentityChange(ctx: EngineContext, name: string): Promise<ContactView> {
  const c = await requireContact(ctx, name);
  const next: ContactRecord = { ...c, identity: displayedIdentity(c), verified: c.pendingIdentity ? false : c.verified, identityChanged: false };
  delete next.pendingIdentity;
  await saveContact(ctx, next, c.pendingIdentity ? NoticeKind.identityAccepted : undefined);
  await releaseHeld(ctx, c.username);
  return contactInfo(ctx, c.username);
}

export async function setBlocked(ctx: EngineContext, name: string, blocked: boolean): Promise<void> {
  const c = await requireContact(ctx, name);
  await saveContact(ctx, { ...c, blocked });
  if (!blocked) await releaseHeld(ctx, c.username);
  ctx.events.emit({ type: 'chats' });
}

/**
 * Contacts as the user sees them (DESIGN.md §4 "Safety numbers"):
 * lookup by username, the safety number and QR payload, verification, accepting or rejecting a
 * key change, blocking.
 *
 * Verification binds what the user compared (P3): `markVerified` takes the safety number shown
 * (or the code scanned from the other screen), recomputes it for the key it would mark and
 * refuses with SafetyNumberMismatch if they differ — a key that changed between display and
 * click is never marked. Verifying while a change is pending verifies the new key.
 *
 * Trusting a new key covers what is written from then on (P36): texts written for the old key and
 * not yet encrypted become `stale` in the same transaction ("not sent — safety number changed");
 * only the user's "send again" sends them to the new key. Rejecting keeps the old key, drops the
 * new key's sessions and refuses that key from then on.
 */
import { fail } from '../../src/lib/codec/errors';
import { bytesEqual, fromHex, toHex } from '../../src/lib/codec/bytes';
import { decodeIdentityPublic, identityPublic } from '../../src/lib/crypto/identity';
import { qrPayload, safetyNumber, verifyQrPayload } from '../../src/lib/crypto/safety-number';
import { getContact, putContact, withAvatar } from '../storage/contact-repo';
import { updateChat } from '../storage/chat-repo';
import { putMessage } from '../storage/message-repo';
import type { ContactRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { canonicalUsername } from './account';
import { contactFromBundle, discoverContact } from './discover';
import { requireMe, type EngineContext } from './context';
import { notice, NoticeKind, type NoticeKind as Kind } from './notices';
import { releaseHeld } from './outbox';
import { dropSessionsWith } from './sessions';
import { displayedIdentity } from './trust';
import { engineFail } from './errors';
import { statusEvent } from './views';
import { deleteOutbox, listOutbox } from '../storage/outbox-repo';
import { txGetMessage } from '../storage/message-repo';
import type { MessageRecord, Tx } from '../storage/schema';
import type { Username } from '../../src/lib/codec/username';
import type { Comparison, ContactView } from '../../src/lib/vault/views';
import { contactProfile } from './profiles';
import { isAcceptedContact } from './requests';


async function requireContact(ctx: EngineContext, raw: string): Promise<ContactRecord> {
  const c = await getContact(ctx.vault, canonicalUsername(raw));
  if (!c) engineFail('NoSuchUser', 'no such contact');
  return c;
}

/**
 * Finds a user by name and records their identity (trust on first use) without telling the host
 * who asked (discover.ts); `fromBundle` takes the authenticated bundle path instead (a group's
 * member list, discover.ts says why).
 */
export async function lookupUser(ctx: EngineContext, name: string, { openChat = true, fromBundle = false } = {}): Promise<{ username: Username }> {
  const me = requireMe(ctx);
  const username = canonicalUsername(name);
  if (username === me.username) fail('InvalidArgument', 'that is your own username');
  const existing = await getContact(ctx.vault, username);
  if (!existing) await (fromBundle ? contactFromBundle(ctx, username) : discoverContact(ctx, username));
  // "New chat" opens a chat; adding a group member does not (it is not a 1:1 conversation).
  if (openChat) {
    await commit(ctx.vault, (tx) => updateChat(tx, username, (c) => c));
    ctx.events.emit({ type: 'chats' });
  }
  return { username };
}

export async function contactInfo(ctx: EngineContext, name: string): Promise<ContactView> {
  const me = requireMe(ctx);
  const c = await withAvatar(ctx.vault, await requireContact(ctx, name));
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
    blocked: c.blocked,
    canReject: rejectable(c) !== undefined,
    keyRejected: c.rejectedIdentity !== undefined,
    request: c.request === true && !c.blocked,
    accepted: isAcceptedContact(c),
    ...(c.profile ? { profile: contactProfile(c)! } : {})
  };
}

/** The identity a "reject" would refuse: the pending one, or an unverified contact's replacement. */
function rejectable(c: ContactRecord): Uint8Array | undefined {
  if (c.pendingIdentity) return c.pendingIdentity;
  if (c.identityChanged && c.previousIdentity) return c.identity;
  return undefined;
}

/**
 * Writes the contact (and a notice) in one transaction; call inside ctx.serial when the trusted
 * identity changes, so no outbox pass runs in between. Texts waiting in the outbox that were
 * written for another identity than the one now trusted become `stale` there too (P36).
 */
async function saveContact(ctx: EngineContext, contact: ContactRecord, kind?: Kind): Promise<void> {
  const waiting = (await listOutbox(ctx.vault)).filter((i) => i.username === contact.username && i.messageKey && !i.ciphertext);
  const staled = await commit(ctx.vault, async (tx) => {
    await putContact(tx, contact);
    if (kind) {
      await putMessage(tx, notice(ctx, contact.username, kind));
      await updateChat(tx, contact.username, (c) => c);
    }
    return staleFor(tx, waiting, contact.identity);
  });
  for (const m of staled) {
    const e = statusEvent(m);
    if (e) ctx.events.emit(e);
  }
  ctx.events.emit({ type: 'identity', username: contact.username });
}

async function staleFor(tx: Tx, items: Awaited<ReturnType<typeof listOutbox>>, trusted: Uint8Array): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  for (const item of items) {
    if (!item.identity || bytesEqual(item.identity, trusted)) continue;
    await deleteOutbox(tx, item.seq!);
    const m = await txGetMessage(tx, item.messageKey!);
    if (!m) continue;
    const next: MessageRecord = { ...m, status: 'stale' };
    await putMessage(tx, next);
    out.push(next);
  }
  return out;
}

/** The 60 digits without the spaces or line breaks a display or a copy may add. */
function digitsOnly(s: string): string {
  return s.replace(/[\s-]/g, '');
}

/**
 * Marks the shown identity verified, given what the user compared: the safety number displayed
 * to them, or the code scanned from the other person's screen. Both are recomputed here for the
 * identity that would be marked; a difference is SafetyNumberMismatch and nothing changes.
 */
export async function markVerified(ctx: EngineContext, name: string, compared: Comparison): Promise<ContactView> {
  const me = requireMe(ctx);
  const c = await requireContact(ctx, name);
  const shown = displayedIdentity(c);
  const input = {
    ourUsername: me.username,
    ourIdentity: identityPublic(me.identity),
    theirUsername: c.username,
    theirIdentity: decodeIdentityPublic(shown)
  };
  if ('scannedQr' in compared && typeof compared.scannedQr === 'string') {
    let verdict: string;
    try {
      verdict = verifyQrPayload(compared.scannedQr, input);
    } catch {
      verdict = 'unreadable';
    }
    if (verdict !== 'match') engineFail('SafetyNumberMismatch', `the scanned code does not match (${verdict})`);
  } else if ('safetyNumber' in compared && typeof compared.safetyNumber === 'string') {
    if (digitsOnly(compared.safetyNumber) !== safetyNumber(input)) {
      engineFail('SafetyNumberMismatch', 'the safety number compared is not the one for the current key');
    }
  } else {
    fail('InvalidArgument', 'markVerified needs the safety number shown or a scanned code');
  }
  const next: ContactRecord = { ...c, identity: shown, verified: true, identityChanged: false };
  delete next.pendingIdentity;
  delete next.previousIdentity;
  await ctx.serial(() => saveContact(ctx, next, NoticeKind.verified));
  await releaseHeld(ctx, c.username);
  return contactInfo(ctx, c.username);
}

/**
 * Accepts a key change without verifying: the new key is trusted for what is written from now on
 * (P36), "verified" is cleared.
 */
export async function acceptIdentityChange(ctx: EngineContext, name: string): Promise<ContactView> {
  const c = await requireContact(ctx, name);
  const changed = c.pendingIdentity !== undefined || c.identityChanged;
  const next: ContactRecord = { ...c, identity: displayedIdentity(c), verified: c.pendingIdentity ? false : c.verified, identityChanged: false };
  delete next.pendingIdentity;
  delete next.previousIdentity;
  await ctx.serial(() => saveContact(ctx, next, changed ? NoticeKind.identityAccepted : undefined));
  await releaseHeld(ctx, c.username);
  return contactInfo(ctx, c.username);
}

/**
 * Rejects a key change (P36): the old identity stays trusted (and verified, if it was); every
 * session with the new key is dropped, nothing is ever encrypted to it, and its messages are
 * refused from now on. The conversation shows that the key was rejected.
 */
export async function rejectIdentityChange(ctx: EngineContext, name: string): Promise<ContactView> {
  const c = await requireContact(ctx, name);
  const rejected = rejectable(c);
  if (!rejected) fail('InvalidArgument', 'there is no key change to reject');
  const trusted = c.pendingIdentity ? c.identity : fromHex(c.previousIdentity!);
  const next: ContactRecord = { ...c, identity: trusted, identityChanged: false, rejectedIdentity: toHex(rejected) };
  delete next.pendingIdentity;
  delete next.previousIdentity;
  await ctx.serial(async () => {
    await saveContact(ctx, next, NoticeKind.identityRejected);
    await dropSessionsWith(ctx, c.username, rejected);
  });
  await releaseHeld(ctx, c.username);
  return contactInfo(ctx, c.username);
}

export async function setBlocked(ctx: EngineContext, name: string, blocked: boolean): Promise<void> {
  const c = await requireContact(ctx, name);
  await saveContact(ctx, { ...c, blocked });
  if (!blocked) await releaseHeld(ctx, c.username);
  ctx.events.emit({ type: 'chats' });
}

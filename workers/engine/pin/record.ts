/**
 * The account record on this device's side (DESIGN.md §7): built from the vault (identity, our
 * profile key and profile, settings, contacts with verification state, their profile keys,
 * request state and chat flags, block list, the groups we are in and their flags), sealed under the record key derived from the
 * master secret (src/lib/crypto/account-record.ts; this browser keeps the key, not the secret:
 * keys.ts) and uploaded with the access key the host checks and the takeover public key it fixes
 * with the record (P37). The host sees a bucket-sized ciphertext, a key hash and a public key
 * (P26). Knows nothing of realms or PINs.
 */
import { encodeAccountRecord, sealAccountRecordWithKey, type AccountRecord, type Contact, type GroupEntry } from '../../../src/lib/crypto/account-record';
import { address } from '../../../src/lib/crypto/group/address';
import { findMember } from '../../../src/lib/crypto/group/group-state';
import { stateHash } from '../../../src/lib/crypto/group/group-state-codec';
import { fromHex } from '../../../src/lib/codec/bytes';
import { listChats } from '../../storage/chat-repo';
import { listGroups } from '../../storage/group-repo';
import { collectSettings } from '../account-settings';
import { theirProfileKey } from '../sealed-access';
import type { Username } from '../../../src/lib/codec/username';
import { fail } from '../../../src/lib/codec/errors';
import { hkdf } from '../../../src/lib/crypto/hkdf';
import { decodeIdentityPublic } from '../../../src/lib/crypto/identity';
import { Labels, labelBytes } from '../../../src/lib/crypto/labels';
import { sha256 } from '../../../src/lib/crypto/primitives';
import { bytesEqual, toHex } from '../../../src/lib/codec/bytes';
import { fromContactRow } from '../../storage/contact-repo';
import type { PinState } from '../../storage/pin-repo';
import { blobKey } from '../group-key-epochs';
import { hostAuth } from '../account';
import { requireMe, type EngineContext } from '../context';
import { profileKey, profileKeyFingerprint } from '../profile-key';
import { myProfile } from '../profiles';
import { pendingGroups } from './pending-groups';

/** The 32-byte key the host checks before handing out the record (it stores SHA-256 of it). */
export function recordAccessKey(masterSecret: Uint8Array): Uint8Array {
  return hkdf(new Uint8Array(32), masterSecret, labelBytes(Labels.accountRecordAccess), 32);
}

/**
 * Everything a new browser needs, from the vault as it is now. The profile key is the one in use
 * (profile-key.ts, P43), so a restore finds our profile blob again (about and avatar come back from
 * it); the display name rides in the record too, for when the blob cannot be fetched.
 */
export async function buildAccountRecord(ctx: EngineContext): Promise<AccountRecord> {
  const me = requireMe(ctx);
  const ourKey = await profileKey(ctx);
  const ourFingerprint = profileKeyFingerprint(ourKey);
  const chats = new Map((await listChats(ctx.vault)).map((c) => [c.username, c]));
  const contacts: Contact[] = [];
  const blocked: Username[] = [];
  for (const row of await ctx.vault.db.getAll('contacts')) {
    const c = fromContactRow(ctx.vault.db, row);
    const chat = chats.get(c.username);
    const theirKey = theirProfileKey(c);
    // The TRUSTED identity (not a pending change): a restore must not silently accept a new key.
    contacts.push({
      username: c.username,
      identity: decodeIdentityPublic(c.identity),
      verified: c.verified,
      verifiedAt: null,
      ...(theirKey ? { profileKey: theirKey } : {}),
      ...(c.request ? { request: true as const } : {}),
      ...(c.sharedKey === ourFingerprint ? { holdsOurKey: true as const } : {}),
      ...(chat?.pinned ? { pinned: true as const } : {}),
      ...(chat?.muted ? { muted: true as const } : {}),
      ...(chat?.archived ? { archived: true as const } : {})
    });
    if (c.blocked) blocked.push(c.username);
  }
  // P19: a group we are still in, with the head we trust, so a restore can check the host's blob.
  const groups: GroupEntry[] = [];
  for (const g of await listGroups(ctx.vault)) {
    if (!findMember(g.history.head, address(me.username))) continue;
    groups.push({
      id: fromHex(g.id),
      masterKey: blobKey(g),
      headVersion: g.history.head.version,
      headHash: stateHash(g.history.head),
      ...(g.inviteSecret ? { inviteSecret: g.inviteSecret } : {}),
      // The link's blob token derives from the key we held when it was made, if not the one above.
      ...(g.inviteSecret && !bytesEqual(g.linkKey ?? g.masterKey, blobKey(g)) ? { linkKey: g.linkKey ?? g.masterKey } : {}),
      // P42: a group request stays one on a restored browser (no receipts, no profile key).
      ...(g.requestFrom ? { requestFrom: g.requestFrom } : {}),
      // README "Chat list": the group's filing comes back as a chat's does.
      ...(g.pinned ? { pinned: true as const } : {}),
      ...(g.muted ? { muted: true as const } : {}),
      ...(g.archived ? { archived: true as const } : {})
    });
  }
  // A group the restore could not fetch yet stays in the backup until it comes back (pending-groups.ts).
  const have = new Set(groups.map((g) => toHex(g.id)));
  for (const p of await pendingGroups(ctx)) if (!have.has(toHex(p.id))) groups.push(p);
  const profile = await myProfile(ctx);
  return {
    identity: me.identity,
    profile: { displayName: profile.displayName, ...(profile.about ? { about: profile.about } : {}) },
    profileKey: ourKey,
    settings: await collectSettings(ctx),
    contacts,
    blocked,
    groups
  };
}

/** A digest of the record's whole content, to skip uploads that would change nothing. */
export function recordDigest(record: AccountRecord): string {
  const encoded = encodeAccountRecord(record);
  try {
    return toHex(sha256(encoded));
  } finally {
    encoded.fill(0);
  }
}

/** Seals and uploads the record; returns its digest. */
export async function uploadAccountRecord(ctx: EngineContext, pin: PinState): Promise<string> {
  const me = requireMe(ctx);
  if (!ctx.transport.putAccountRecord) fail('NotInitialized', 'this host transport cannot store account records');
  const record = await buildAccountRecord(ctx);
  const sealed = sealAccountRecordWithKey(record, pin.keys.recordKey, me.username, ctx.deps);
  await ctx.transport.putAccountRecord(hostAuth(me), pin.keys.accessKey, sealed, pin.keys.takeoverPublicKey);
  return recordDigest(record);
}

/**
 * The account record on this device's side (DESIGN.md §7): built from the vault (identity,
 * contacts with verification state, block list), sealed under the record key derived from the
 * master secret (src/lib/crypto/account-record.ts; this browser keeps the key, not the secret:
 * keys.ts) and uploaded with the access key the host checks and the takeover public key it fixes
 * with the record (P37). The host sees a bucket-sized ciphertext, a key hash and a public key
 * (P26). Knows nothing of realms or PINs.
 */
import { sealAccountRecordWithKey, type AccountRecord, type Contact } from '../../../src/lib/crypto/account-record';
import type { Username } from '../../../src/lib/codec/username';
import { fail } from '../../../src/lib/codec/errors';
import { hkdf } from '../../../src/lib/crypto/hkdf';
import { decodeIdentityPublic } from '../../../src/lib/crypto/identity';
import { Labels, labelBytes } from '../../../src/lib/crypto/labels';
import { sha256 } from '../../../src/lib/crypto/primitives';
import { toHex } from '../../../src/lib/codec/bytes';
import { fromContactRow } from '../../storage/contact-repo';
import type { PinState } from '../../storage/pin-repo';
import { hostAuth } from '../account';
import { requireMe, type EngineContext } from '../context';
import { profileKey, profileKeyFingerprint } from '../profile-key';
import { myProfile } from '../profiles';

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
  const rows = await ctx.vault.db.getAll('contacts');
  const contacts: Contact[] = [];
  const blocked: Username[] = [];
  for (const row of rows) {
    const c = fromContactRow(ctx.vault.db, row);
    // The TRUSTED identity (not a pending change): a restore must not silently accept a new key.
    contacts.push({ username: c.username, identity: decodeIdentityPublic(c.identity), verified: c.verified, verifiedAt: null });
    if (c.blocked) blocked.push(c.username);
  }
  const displayName = (await myProfile(ctx)).displayName;
  return { identity: me.identity, profile: { displayName }, profileKey: await profileKey(ctx), settings: {}, contacts, blocked, groups: [] };
}

/** A digest of the record's content, to skip uploads that would change nothing. */
export function recordDigest(record: AccountRecord): string {
  const parts = record.contacts.map((c) => `${c.username}:${c.verified ? 1 : 0}:${toHex(c.identity.signingKey)}`);
  const profile = `${profileKeyFingerprint(record.profileKey)}:${record.profile.displayName}`;
  return toHex(sha256(new TextEncoder().encode(`${parts.join(',')}|${record.blocked.join(',')}|${profile}`)));
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

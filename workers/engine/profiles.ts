/**
 * Private profiles in the engine (SECURITY.md P43; README "Design: private profiles"):
 *
 * - Ours: display name, about and avatar (already resized and re-encoded by the page), kept in
 *   the meta store sealed with the data key (P32), sealed under our profile key
 *   (src/lib/crypto/profile.ts) and uploaded to the address the key derives, with the write token
 *   only our identity key derives, over requests that carry no account (profile-transport.ts).
 * - Sharing: the key travels inside the ratchet (content kind profileKey) only to people we write
 *   to (queueText calls `shareProfileKey`) or accept; each contact remembers the fingerprint of
 *   the version it got, so a rotation re-shares.
 * - Blocking: `rotateOnBlock` draws a new key, uploads the profile at the new address, deletes
 *   the old blob with its token, and queues the new key to every other contact that had the old
 *   one; the blocked person keeps an address that answers 404 and a key that opens nothing new.
 * - Theirs: a shared key is stored on the contact; the blob is fetched and opened with it, and
 *   what it holds is cached on the contact (sealed at rest) for the chat list, header and calls.
 * Knows nothing of images, the page or HTTP.
 */
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { bytesEqual, concatBytes } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import { Labels, labelBytes } from '../../src/lib/crypto/labels';
import { sha256 } from '../../src/lib/crypto/primitives';
import type { Username } from '../../src/lib/codec/username';
import { PROFILE_KEY_LEN, decodeProfile, encodeProfile, openProfile, profileAddress, profileWriteToken, sealProfile, type Profile } from '../../src/lib/crypto/profile';
import { encodeContent } from '../../src/lib/wire/content';
import type { ProfileSaved, ProfileSummary, ProfileView } from '../../src/lib/vault/views';
import { fromContactRow, putAvatar, putContact, txGetAvatar, txGetContact } from '../storage/contact-repo';
import { addOutbox } from '../storage/outbox-repo';
import { openBytes, sealBytes } from '../storage/record-seal';
import type { ContactRecord, Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { engineFail, isEngineError } from './errors';
import { profileKey, profileKeyFingerprint, txProfileKey, txRotateProfileKey } from './profile-key';
import { deleteRetiredBlobs, txRetireBlob } from './retired-blobs';
import { minInterval } from './min-interval';

const OWN = 'profile';
const EMPTY: Profile = { displayName: '', about: '', avatar: null };

function toView(p: Profile): ProfileView {
  return { displayName: p.displayName, about: p.about, avatar: p.avatar };
}

/** Our profile as last saved on this device (empty until the user sets one). */
export async function myProfile(ctx: EngineContext): Promise<ProfileView> {
  const sealed = (await ctx.vault.db.get('meta', OWN)) as Sealed | undefined;
  return toView(sealed ? decodeProfile(openBytes(ctx.vault.db, 'meta', OWN, sealed)) : EMPTY);
}

export async function putMyProfile(tx: Tx, p: Profile): Promise<void> {
  await tx.objectStore('meta').put(sealBytes(tx, 'meta', OWN, encodeProfile(p)), OWN);
}

/**
 * What the host last took from us: a hash of the key version and the profile's encoding, sealed
 * in the meta store (P32). A connect re-uploads only when it differs, so an unchanged profile
 * costs no write against the host's per-address limit (P40).
 */
const PUBLISHED = 'profilePublished';

function publishedDigest(key: Uint8Array, p: Profile): Uint8Array {
  return sha256(concatBytes(labelBytes(Labels.profilePublished), key, encodeProfile(p)));
}

async function lastPublished(ctx: EngineContext): Promise<Uint8Array | undefined> {
  const sealed = (await ctx.vault.db.get('meta', PUBLISHED)) as Sealed | undefined;
  return sealed ? openBytes(ctx.vault.db, 'meta', PUBLISHED, sealed) : undefined;
}

/** Seals our profile under `key` and stores it at the key's address (no account on the request). */
async function upload(ctx: EngineContext, key: Uint8Array): Promise<void> {
  const me = requireMe(ctx);
  if (!ctx.profiles) return;
  const p = await myProfile(ctx);
  const digest = publishedDigest(key, p);
  const last = await lastPublished(ctx);
  if (last && bytesEqual(last, digest)) return;
  const sealed = sealProfile({ profile: p, profileKey: key, username: me.username }, ctx.deps);
  await ctx.profiles.put(sealed.address, sealed.blob, profileWriteToken(me.identity, sealed.address));
  await commit(ctx.vault, async (tx) => {
    await tx.objectStore('meta').put(sealBytes(tx, 'meta', PUBLISHED, digest), PUBLISHED);
  });
}

/**
 * Validates (InvalidArgument), saves, and publishes. `published` is false when the host could not
 * take it now (down, or its per-address write limit, P40): it is kept here and published on the
 * next connect, and the page says so instead of "Saved".
 */
export async function setProfile(ctx: EngineContext, p: ProfileView): Promise<ProfileSaved> {
  const me = requireMe(ctx);
  const profile: Profile = { displayName: p.displayName.trim(), about: p.about.trim(), avatar: p.avatar && p.avatar.length > 0 ? p.avatar : null };
  encodeProfile(profile);
  await commit(ctx.vault, (tx) => putMyProfile(tx, profile));
  const published = await publishProfile(ctx);
  ctx.events.emit({ type: 'profile', username: me.username });
  return { profile: toView(profile), published };
}

/**
 * Uploads our profile at the current key's address unless the host already has this version;
 * answers whether it has. A host that is down or limiting us is tried again on the next connect.
 */
export async function publishProfile(ctx: EngineContext): Promise<boolean> {
  try {
    await upload(ctx, await profileKey(ctx));
    return true;
  } catch (e) {
    if (!isEngineError(e, 'Unavailable')) throw e;
    return false;
  }
}

/**
 * Inside a send's transaction: our current profile key if `username` does not hold this version
 * yet (P43: only people we write to or accept get it), marking them as holding it. Never for a
 * blocked contact, nor for a message request not accepted yet (P42).
 */
export async function profileKeyToShare(ctx: EngineContext, tx: Tx, username: Username): Promise<Uint8Array | undefined> {
  const contact = await txGetContact(tx, username);
  if (contact?.blocked || contact?.request) return undefined;
  const key = await txProfileKey(ctx, tx);
  const fp = profileKeyFingerprint(key);
  if (contact?.sharedKey === fp) return undefined;
  if (contact) await putContact(tx, { ...contact, sharedKey: fp });
  return key;
}

/** Accepting someone (P42 message requests) shares our key with them on its own (P43). */
export async function shareProfileKey(ctx: EngineContext, tx: Tx, username: Username): Promise<void> {
  const key = await profileKeyToShare(ctx, tx, username);
  if (key) await addOutbox(tx, { username, content: encodeContent({ kind: 'profileKey', key }) });
}

/**
 * Blocking `blocked` (P43): a new key, our profile at its address, the old blob deleted (owed until
 * the host confirms: retired-blobs.ts), and the new key queued to everyone else who held the old
 * one. The blocked person's copy opens nothing that exists any more.
 */
export async function rotateOnBlock(ctx: EngineContext, blocked: Username): Promise<void> {
  const me = requireMe(ctx);
  await commit(ctx.vault, async (tx) => {
    const keys = await txRotateProfileKey(ctx, tx);
    // Owed a delete from now on, whatever happens to the requests below (retired-blobs.ts).
    await txRetireBlob(tx, 'profile', profileAddress(keys.previous, me.username));
    const fp = profileKeyFingerprint(keys.next);
    for (const row of await tx.objectStore('contacts').getAll()) {
      const c = fromContactRow(tx, row);
      if (c.sharedKey === undefined) continue;
      if (c.username === blocked || c.blocked) {
        const rest = { ...c };
        delete rest.sharedKey;
        await putContact(tx, rest);
        continue;
      }
      await addOutbox(tx, { username: c.username, content: encodeContent({ kind: 'profileKey', key: keys.next }) });
      await putContact(tx, { ...c, sharedKey: fp });
    }
  });
  ctx.kickOutbox();
  // Our own profile event: the account record (which carries the key) is uploaded again.
  ctx.events.emit({ type: 'profile', username: me.username });
  if (!ctx.profiles) return;
  await publishProfile(ctx);
  // A lock while the upload waited cut it off (P46): once the keys are going, ask nothing more.
  if (ctx.me !== me) engineFail('Locked', 'the vault locked while the new profile went up');
  // Owed while the host does not take it: tried again on the withdrawals' backoff.
  if (await deleteRetiredBlobs(ctx)) ctx.kickWithdrawals(true);
}

/** Inside the receive transaction: `sender` shared its profile key with us. */
export async function storeTheirKey(tx: Tx, sender: Username, key: Uint8Array): Promise<boolean> {
  const c = await txGetContact(tx, sender);
  if (!c || key.length !== PROFILE_KEY_LEN) return false;
  const text = toBase64Url(key);
  if (c.profileKey === text) return false;
  await putContact(tx, { ...c, profileKey: text });
  return true;
}

/**
 * Fetches and opens `username`'s profile with the key they shared; caches it on the contact.
 * A missing blob (they set none, or rotated away from us) clears what was cached. Answers whether
 * anything changed; a host that is down changes nothing.
 */
export async function refreshProfile(ctx: EngineContext, username: Username): Promise<boolean> {
  if (!ctx.profiles) return false;
  const before = await ctx.vault.db.get('contacts', username);
  const keyText = before && fromContactRow(ctx.vault.db, before).profileKey;
  if (!keyText) return false;
  const key = fromBase64Url(keyText, PROFILE_KEY_LEN);
  let profile: Profile | undefined;
  try {
    const blob = await ctx.profiles.get(profileAddress(key, username));
    profile = blob ? openProfile({ blob, profileKey: key, username }) : undefined;
  } catch (e) {
    // Down: try later. A blob that does not open under their key is not theirs: show none.
    if (isEngineError(e, 'Unavailable') || !isCodedError(e)) return false;
    profile = undefined;
  }
  const changed = await commit(ctx.vault, async (tx) => {
    const read = await txGetContact(tx, username);
    if (!read || read.profileKey !== keyText) return false;
    // The picture lives in its own row (contact-repo.ts): compared and written there.
    const stored = read.profile?.avatar ?? (read.profile ? await txGetAvatar(tx, username) : undefined);
    const c: ContactRecord = read.profile && stored !== undefined ? { ...read, profile: { ...read.profile, avatar: stored } } : read;
    const next: ContactRecord = { ...c };
    if (profile) next.profile = { displayName: profile.displayName, about: profile.about, ...(profile.avatar ? { avatar: toBase64Url(profile.avatar) } : {}) };
    else delete next.profile;
    if (JSON.stringify(next.profile) === JSON.stringify(c.profile)) return false;
    await putContact(tx, next);
    if (next.profile?.avatar === undefined) await putAvatar(tx, username, undefined);
    return true;
  });
  if (changed) ctx.events.emit({ type: 'profile', username });
  return changed;
}

/** Least time between two refreshes of every contact's profile (our clock). */
export const REFRESH_ALL_MIN_MS = 5 * 60_000;
const mayRefreshAll = minInterval(REFRESH_ALL_MIN_MS);

/**
 * Every contact's profile, when the connection comes up (a rename shows without a message): at
 * most once per REFRESH_ALL_MIN_MS, since a host that drops and takes back the connection would
 * otherwise get a fetch of every contact's profile (avatars up to 200 KB) per reconnect, each
 * one telling it by timing which profile addresses this browser can open.
 */
export async function refreshAllProfiles(ctx: EngineContext): Promise<void> {
  if (!mayRefreshAll(ctx)) return;
  for (const row of await ctx.vault.db.getAll('contacts')) {
    if (!fromContactRow(ctx.vault.db, row).profileKey) continue;
    await refreshProfile(ctx, row.username);
  }
}

const MAX_AVATAR = 200_000;

/** The chat row's share of a contact's profile (name and avatar). */
export function profileSummary(c: ContactRecord | undefined): ProfileSummary | undefined {
  const p = c?.profile;
  if (!p || !p.displayName) return p?.avatar ? { displayName: '', avatar: fromBase64Url(p.avatar, MAX_AVATAR) } : undefined;
  return { displayName: p.displayName, ...(p.avatar ? { avatar: fromBase64Url(p.avatar, MAX_AVATAR) } : {}) };
}

export function contactProfile(c: ContactRecord | undefined): ProfileView | undefined {
  const p = c?.profile;
  return p ? { displayName: p.displayName, about: p.about, avatar: p.avatar ? fromBase64Url(p.avatar, MAX_AVATAR) : null } : undefined;
}

/**
 * After a PIN restore (DESIGN.md §7): our profile key came back with the account record, so our
 * own blob on the host opens again and brings back the about text and avatar the record does not
 * carry. Nothing is lost if the host is down: the record's display name is already in place.
 */
export async function restoreProfile(ctx: EngineContext): Promise<void> {
  const me = requireMe(ctx);
  if (!ctx.profiles) return;
  const key = await profileKey(ctx);
  try {
    const blob = await ctx.profiles.get(profileAddress(key, me.username));
    if (!blob) return;
    const p = openProfile({ blob, profileKey: key, username: me.username });
    await commit(ctx.vault, (tx) => putMyProfile(tx, p));
    ctx.events.emit({ type: 'profile', username: me.username });
  } catch (e) {
    if (!isCodedError(e)) throw e;
  }
}

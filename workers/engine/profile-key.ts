/**
 * The profile key in the vault (SECURITY.md P41, P43; README "Design: sealed sender and
 * profiles"): OUR 32-byte profile key, which contacts' profile-key contents carry to them, and
 * THEIR keys (ContactRecord.profileKey), from which the delivery token for sealed mail to them
 * derives (delivery-token.ts). The one module that stores or reads a profile key: profiles
 * (blob address, blob key) reuse `ownProfileKey` / `theirProfileKey` from here.
 *
 * Our key is one meta row sealed under the vault's data key; the host learns only the
 * SealedAccess verifier derived from it (`publishSealedAccess`, set over the authenticated
 * connection whenever the key or the "sealed from anyone" setting changes). Our key is given to
 * a contact once per key (`shareProfileKey`): when we write to them or accept their request,
 * never to a pending message request (P42). Knows nothing of envelopes or the UI.
 */
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import { deliveryToken, encodeSealedAccess, sealedAccessFor } from '../../src/lib/crypto/delivery-token';
import { generateProfileKey, PROFILE_KEY_LEN } from '../../src/lib/crypto/profile';
import { sha256 } from '../../src/lib/crypto/primitives';
import { encodeContent } from '../../src/lib/wire/content';
import { putContact, txGetContact } from '../storage/contact-repo';
import { addOutbox } from '../storage/outbox-repo';
import { openJson, sealJson } from '../storage/record-seal';
import type { ContactRecord, Sealed, Tx } from '../storage/schema';
import { commit, type Vault } from '../storage/vault';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import type { Username } from '../../src/lib/codec/username';

const KEY = 'profileKey';

interface Stored {
  /** Hex of our profile key. */
  key: string;
  /** Accept sealed mail from anyone, not only from people we gave the key (P41). */
  sealedFromAnyone: boolean;
  /** Digest of the SealedAccess the host last confirmed (so it is set once per change). */
  published?: string;
}

async function load(vault: Vault): Promise<Stored | undefined> {
  const sealed = (await vault.db.get('meta', KEY)) as Sealed | undefined;
  return sealed && openJson<Stored>(vault.db, 'meta', KEY, sealed);
}

async function save(tx: Tx, s: Stored): Promise<void> {
  await tx.objectStore('meta').put(sealJson(tx, 'meta', KEY, s), KEY);
}

/** Our profile key, made on first use. */
export async function ownProfileKey(ctx: EngineContext): Promise<Uint8Array> {
  const s = await load(ctx.vault);
  if (s) return fromHex(s.key);
  const key = generateProfileKey(ctx.deps);
  await commit(ctx.vault, async (tx) => {
    // Another tab may have made one meanwhile: the first one stays.
    const again = await tx.objectStore('meta').get(KEY);
    if (!again) await save(tx, { key: toHex(key), sealedFromAnyone: false });
  });
  return fromHex((await load(ctx.vault))!.key);
}

/** Replaces our profile key (restore, or a rotation after a block); the host access follows. */
export async function setOwnProfileKey(tx: Tx, key: Uint8Array, sealedFromAnyone = false): Promise<void> {
  await save(tx, { key: toHex(key), sealedFromAnyone });
}

/** Short id of a profile key: what a contact record remembers we gave it (never the key). */
export function profileKeyId(key: Uint8Array): string {
  return toHex(sha256(key).subarray(0, 8));
}

export async function sealedFromAnyone(ctx: EngineContext): Promise<boolean> {
  return (await load(ctx.vault))?.sealedFromAnyone ?? false;
}

export async function setSealedFromAnyone(ctx: EngineContext, anyone: boolean): Promise<void> {
  const key = await ownProfileKey(ctx);
  await commit(ctx.vault, async (tx) => {
    const s = (await load(ctx.vault)) ?? { key: toHex(key), sealedFromAnyone: anyone };
    await save(tx, { ...s, sealedFromAnyone: anyone });
  });
  await publishSealedAccess(ctx);
}

/**
 * Sets our SealedAccess on the host if it changed since the host last took it. Quietly does
 * nothing on a host without sealed sender; host errors propagate (the caller retries later).
 */
export async function publishSealedAccess(ctx: EngineContext): Promise<void> {
  const me = requireMe(ctx);
  if (!ctx.transport.putSealedAccess) return;
  const key = await ownProfileKey(ctx);
  const s = (await load(ctx.vault))!;
  const access = encodeSealedAccess(sealedAccessFor(key, me.username, s.sealedFromAnyone));
  const digest = toHex(sha256(access));
  if (s.published === digest) return;
  await ctx.transport.putSealedAccess(hostAuth(me), access);
  await commit(ctx.vault, async (tx) => save(tx, { ...s, published: digest }));
}

/** Their profile key, if they gave it to us. */
export function theirProfileKey(contact: ContactRecord | undefined): Uint8Array | undefined {
  const hex = contact?.profileKey;
  if (!hex || hex.length !== 2 * PROFILE_KEY_LEN) return undefined;
  return fromHex(hex);
}

/** The delivery token for sealed mail to `contact`, if they gave us their profile key. */
export function theirDeliveryToken(contact: ContactRecord | undefined): Uint8Array | undefined {
  const key = theirProfileKey(contact);
  return key && contact ? deliveryToken(key, contact.username) : undefined;
}

/** Stores the profile key a contact gave us (inside the receive transaction). */
export async function rememberTheirProfileKey(tx: Tx, username: Username, key: Uint8Array): Promise<void> {
  const c = await txGetContact(tx, username);
  if (!c || key.length !== PROFILE_KEY_LEN) return;
  const hex = toHex(key);
  if (c.profileKey !== hex) await putContact(tx, { ...c, profileKey: hex });
}

/**
 * Whether our profile key is due for `username` (once per key; never for a contact that is still
 * a request, P42), marking it given in the same transaction. The caller puts it in what it
 * sends: on the text we write (TextContent.profileKey) or as its own content on accept.
 */
export async function takeProfileKeyShare(tx: Tx, username: Username, key: Uint8Array): Promise<boolean> {
  const c = await txGetContact(tx, username);
  const id = profileKeyId(key);
  if (c?.request || c?.sharedProfileKey === id) return false;
  if (c) await putContact(tx, { ...c, sharedProfileKey: id });
  return true;
}

/** Queues our profile key on its own (an accept: no text goes with it). */
export async function shareProfileKey(tx: Tx, username: Username, key: Uint8Array): Promise<void> {
  if (await takeProfileKeyShare(tx, username, key)) await addOutbox(tx, { username, content: encodeContent({ kind: 'profileKey', key }) });
}

/**
 * Who may send us sealed mail, and the token to send it sealed to others (SECURITY.md P41;
 * README "Design: sealed sender and profiles"). Delivery tokens derive from profile keys
 * (src/lib/crypto/delivery-token.ts): OURS (profile-key.ts, the one owner of it) gives the
 * SealedAccess verifier the host checks; THEIRS (ContactRecord.profileKey, stored by profiles.ts
 * when they share it inside the ratchet) gives the token we present.
 *
 * Owns one meta row sealed with the vault's data key (P32; re-sealed by the app lock's key
 * rotation, record-seal.ts `resealMeta`): the "sealed from anyone" choice and a digest of the
 * SealedAccess the host last confirmed, so it is set once per change (a new key after a block,
 * a PIN restore, the setting). Knows nothing of envelopes, profiles' contents or the UI.
 */
import { fromBase64Url } from '../../src/lib/codec/base64url';
import { toHex } from '../../src/lib/codec/bytes';
import { deliveryToken, encodeSealedAccess, sealedAccessFor } from '../../src/lib/crypto/delivery-token';
import { PROFILE_KEY_LEN } from '../../src/lib/crypto/profile';
import { sha256 } from '../../src/lib/crypto/primitives';
import { openJson, sealJson } from '../storage/record-seal';
import type { ContactRecord, Sealed, Tx } from '../storage/schema';
import { commit, type Vault } from '../storage/vault';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { profileKey } from './profile-key';

export const SEALED_ACCESS_META_KEY = 'sealedAccess';

interface Stored {
  /** Accept sealed mail from anyone, not only from people we gave the key (P41). */
  anyone: boolean;
  /** Digest of the SealedAccess the host last confirmed. */
  published?: string;
}

async function load(vault: Vault): Promise<Stored> {
  const sealed = (await vault.db.get('meta', SEALED_ACCESS_META_KEY)) as Sealed | undefined;
  return sealed ? openJson<Stored>(vault.db, 'meta', SEALED_ACCESS_META_KEY, sealed) : { anyone: false };
}

async function save(vault: Vault, s: Stored): Promise<void> {
  await commit(vault, async (tx) => {
    await tx.objectStore('meta').put(sealJson(tx, 'meta', SEALED_ACCESS_META_KEY, s), SEALED_ACCESS_META_KEY);
  });
}

export async function sealedFromAnyone(ctx: EngineContext): Promise<boolean> {
  return (await load(ctx.vault)).anyone;
}

/** A PIN restore's copy of the setting, inside its transaction; published on the next connect. */
export async function putSealedFromAnyone(tx: Tx, anyone: boolean): Promise<void> {
  await tx.objectStore('meta').put(sealJson(tx, 'meta', SEALED_ACCESS_META_KEY, { anyone } satisfies Stored), SEALED_ACCESS_META_KEY);
}

export async function setSealedFromAnyone(ctx: EngineContext, anyone: boolean): Promise<void> {
  await save(ctx.vault, { ...(await load(ctx.vault)), anyone });
  await publishSealedAccess(ctx);
}

/**
 * Sets our SealedAccess on the host if it changed since the host last took it (our profile key
 * rotated, or the setting changed). Quietly does nothing on a host without sealed sender; host
 * errors propagate (the caller retries on the next connect).
 */
export async function publishSealedAccess(ctx: EngineContext): Promise<void> {
  const me = requireMe(ctx);
  if (!ctx.transport.putSealedAccess) return;
  const key = await profileKey(ctx);
  const s = await load(ctx.vault);
  const access = encodeSealedAccess(sealedAccessFor(key, me.username, s.anyone));
  const digest = toHex(sha256(access));
  if (s.published === digest) return;
  await ctx.transport.putSealedAccess(hostAuth(me), access);
  await save(ctx.vault, { ...s, published: digest });
}

/** Their profile key, if they gave it to us (stored base64url by profiles.ts `storeTheirKey`). */
export function theirProfileKey(contact: ContactRecord | undefined): Uint8Array | undefined {
  const text = contact?.profileKey;
  if (!text) return undefined;
  try {
    const key = fromBase64Url(text, PROFILE_KEY_LEN);
    return key.length === PROFILE_KEY_LEN ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The delivery token for sealed mail to `contact`, if they gave us their profile key. */
export function theirDeliveryToken(contact: ContactRecord | undefined): Uint8Array | undefined {
  const key = theirProfileKey(contact);
  return key && contact ? deliveryToken(key, contact.username) : undefined;
}

/**
 * Our profile key (SECURITY.md P43; README "Design: sealed sender and profiles"): the 256-bit key
 * that finds and opens our profile blob, and from which delivery tokens derive (P41). This module
 * owns it: generate (lazily, on first use), store (meta store, sealed with the vault's data key,
 * P32), rotate (a new random key; blocking someone does this), export (for the account record and
 * for sharing inside the ratchet), and import (PIN restore). Its fingerprint names a key version
 * without revealing it, so contacts can be marked with the version they hold.
 * Knows nothing of profiles' contents, the host or sessions.
 */
import { toHex } from '../../src/lib/codec/bytes';
import { fail } from '../../src/lib/codec/errors';
import { concatBytes } from '../../src/lib/codec/bytes';
import { Labels, labelBytes } from '../../src/lib/crypto/labels';
import { sha256 } from '../../src/lib/crypto/primitives';
import { PROFILE_KEY_LEN, generateProfileKey } from '../../src/lib/crypto/profile';
import { openBytes, sealBytes, type Conn } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { engineFail } from './errors';

const META_KEY = 'profileKey';

async function read(c: Conn): Promise<Uint8Array | undefined> {
  const store = 'mode' in c ? c.objectStore('meta') : undefined;
  const sealed = (store ? await store.get(META_KEY) : await (c as Exclude<Conn, Tx>).get('meta', META_KEY)) as Sealed | undefined;
  if (!sealed) return undefined;
  const key = openBytes(c, 'meta', META_KEY, sealed);
  if (key.length !== PROFILE_KEY_LEN) engineFail('StorageLost', `stored profile key of ${key.length} bytes`);
  return key;
}

/** Stores `key` as our profile key (first use, rotation, or a PIN restore bringing it back). */
export async function putProfileKey(tx: Tx, key: Uint8Array): Promise<void> {
  if (key.length !== PROFILE_KEY_LEN) fail('InvalidArgument', `profile key of ${key.length} bytes`);
  await tx.objectStore('meta').put(sealBytes(tx, 'meta', META_KEY, key), META_KEY);
}

/** Our profile key inside a transaction, made on first use. */
export async function txProfileKey(ctx: EngineContext, tx: Tx): Promise<Uint8Array> {
  const have = await read(tx);
  if (have) return have;
  const key = generateProfileKey(ctx.deps);
  await putProfileKey(tx, key);
  return key;
}

/** Our profile key (made and stored on first use). */
export async function profileKey(ctx: EngineContext): Promise<Uint8Array> {
  return (await read(ctx.vault.db)) ?? commit(ctx.vault, (tx) => txProfileKey(ctx, tx));
}

/** Inside `tx`: a new random key replaces the old one; answers both (the old one finds the blob to delete). */
export async function txRotateProfileKey(ctx: EngineContext, tx: Tx): Promise<{ previous: Uint8Array; next: Uint8Array }> {
  const previous = await txProfileKey(ctx, tx);
  const next = generateProfileKey(ctx.deps);
  await putProfileKey(tx, next);
  return { previous, next };
}

/** Names a key version without revealing the key (16 hex digits of a labelled hash). */
export function profileKeyFingerprint(key: Uint8Array): string {
  return toHex(sha256(concatBytes(labelBytes(Labels.profileKeyFingerprint), key)).slice(0, 8));
}

/**
 * Profile blobs we rotated away from (SECURITY.md P43): blocking someone moves our profile to a
 * new key's address, and the blob at the old address, which the blocked person can still find and
 * open, must go. The delete can fail (host down, rate-limited, a lock cutting it off, P46), so the
 * old address is written down in the same transaction as the rotation (meta store, sealed with the
 * vault's data key, P32) and deleted until the host confirms, on the block and on every connect.
 * An honest host then keeps nothing the blocked person opens; a dishonest one can keep anything,
 * which no client can prevent. Knows nothing of profiles' contents or of keys.
 */
import { bytesEqual, concatBytes } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import { PROFILE_ADDRESS_LEN, profileWriteToken } from '../../src/lib/crypto/profile';
import { openBytes, sealBytes, type Conn } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { isEngineError } from './errors';

const META_KEY = 'profileRetired';
/** Oldest dropped past this: more blocks than this while the host never took a delete. */
export const MAX_RETIRED = 64;

async function read(c: Conn): Promise<Uint8Array[]> {
  const store = 'mode' in c ? c.objectStore('meta') : undefined;
  const sealed = (store ? await store.get(META_KEY) : await (c as Exclude<Conn, Tx>).get('meta', META_KEY)) as Sealed | undefined;
  if (!sealed) return [];
  const all = openBytes(c, 'meta', META_KEY, sealed);
  const out: Uint8Array[] = [];
  for (let at = 0; at + PROFILE_ADDRESS_LEN <= all.length; at += PROFILE_ADDRESS_LEN) out.push(all.slice(at, at + PROFILE_ADDRESS_LEN));
  return out;
}

async function write(tx: Tx, addresses: readonly Uint8Array[]): Promise<void> {
  const meta = tx.objectStore('meta');
  if (addresses.length === 0) await meta.delete(META_KEY);
  else await meta.put(sealBytes(tx, 'meta', META_KEY, concatBytes(...addresses)), META_KEY);
}

/** Inside the rotation's transaction: the blob at `address` is owed a delete. */
export async function txRetireProfile(tx: Tx, address: Uint8Array): Promise<void> {
  const have = await read(tx);
  if (have.some((a) => bytesEqual(a, address))) return;
  await write(tx, [...have, address.slice()].slice(-MAX_RETIRED));
}

/** The addresses still owed a delete (tests and the breach check). */
export function retiredProfiles(ctx: EngineContext): Promise<Uint8Array[]> {
  return read(ctx.vault.db);
}

/**
 * Deletes every retired blob the host still has, oldest first. Deleted, or refused for good (not
 * ours, malformed): crossed off. Unavailable (down, rate-limited, cut off): the rest wait for the
 * next connect. Stops asking the moment the account leaves (a lock, P46).
 */
export async function deleteRetiredProfiles(ctx: EngineContext): Promise<void> {
  const me = requireMe(ctx);
  if (!ctx.profiles) return;
  const done: Uint8Array[] = [];
  try {
    for (const address of await read(ctx.vault.db)) {
      if (ctx.me !== me) break;
      try {
        await ctx.profiles.remove(address, profileWriteToken(me.identity, address));
      } catch (e) {
        if (isEngineError(e, 'Unavailable') || !isCodedError(e)) throw e;
      }
      done.push(address);
    }
  } catch (e) {
    if (!isEngineError(e, 'Unavailable')) throw e;
  } finally {
    if (done.length > 0 && ctx.me === me) {
      await commit(ctx.vault, async (tx) => write(tx, (await read(tx)).filter((a) => !done.some((d) => bytesEqual(a, d)))));
    }
  }
}

/**
 * Owner-written blobs we moved away from and owe a delete (SECURITY.md P43; README "Design:
 * private discovery"):
 * - `profile`: blocking someone moves our profile to a new key's address; the blob at the old one,
 *   which the blocked person can still find and open, must go.
 * - `link`: resetting our username link publishes a new one; the old id must stop answering, so
 *   every copy of the old link stops naming us.
 * The delete can fail (host down, rate-limited, a lock cutting it off, P46), so the old address is
 * written down in the same transaction as the move (meta store, sealed with the vault's data key,
 * P32) and deleted until the host confirms: right after the move, then on every connect and on
 * the withdrawals' backoff while some are left (blob-withdrawals.ts). An honest host then keeps
 * nothing of it; a dishonest one can keep anything, which no client can prevent.
 * Knows nothing of the blobs' contents or of keys beyond the write token.
 */
import { bytesEqual, concatBytes } from '../../src/lib/codec/bytes';
import { isCodedError } from '../../src/lib/codec/errors';
import type { IdentityKeyPair } from '../../src/lib/crypto/identity';
import { PROFILE_ADDRESS_LEN, profileWriteToken } from '../../src/lib/crypto/profile';
import { LINK_ID_LEN, usernameLinkWriteToken } from '../../src/lib/crypto/username-link';
import { openBytes, sealBytes, type Conn } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { isEngineError } from './errors';
import type { ProfileTransport } from './profile-transport';

interface Kind {
  metaKey: string;
  len: number;
  transport(ctx: EngineContext): ProfileTransport | undefined;
  token(identity: IdentityKeyPair, address: Uint8Array): Uint8Array;
}

const KINDS = {
  profile: { metaKey: 'profileRetired', len: PROFILE_ADDRESS_LEN, transport: (ctx) => ctx.profiles, token: profileWriteToken },
  link: { metaKey: 'usernameLinkRetired', len: LINK_ID_LEN, transport: (ctx) => ctx.usernameLinks, token: usernameLinkWriteToken }
} satisfies Record<string, Kind>;

export type RetiredKind = keyof typeof KINDS;

/** Per kind, the oldest dropped past this: more moves than this while the host never took a delete. */
export const MAX_RETIRED = 64;

async function read(c: Conn, kind: Kind): Promise<Uint8Array[]> {
  const store = 'mode' in c ? c.objectStore('meta') : undefined;
  const sealed = (store ? await store.get(kind.metaKey) : await (c as Exclude<Conn, Tx>).get('meta', kind.metaKey)) as Sealed | undefined;
  if (!sealed) return [];
  const all = openBytes(c, 'meta', kind.metaKey, sealed);
  const out: Uint8Array[] = [];
  for (let at = 0; at + kind.len <= all.length; at += kind.len) out.push(all.slice(at, at + kind.len));
  return out;
}

async function write(tx: Tx, kind: Kind, addresses: readonly Uint8Array[]): Promise<void> {
  const meta = tx.objectStore('meta');
  if (addresses.length === 0) await meta.delete(kind.metaKey);
  else await meta.put(sealBytes(tx, 'meta', kind.metaKey, concatBytes(...addresses)), kind.metaKey);
}

/** Inside the move's transaction: the blob of `kind` at `address` is owed a delete. */
export async function txRetireBlob(tx: Tx, kind: RetiredKind, address: Uint8Array): Promise<void> {
  const k = KINDS[kind];
  const have = await read(tx, k);
  if (have.some((a) => bytesEqual(a, address))) return;
  await write(tx, k, [...have, address.slice()].slice(-MAX_RETIRED));
}

/** The addresses of `kind` still owed a delete. */
export function retiredBlobs(ctx: EngineContext, kind: RetiredKind): Promise<Uint8Array[]> {
  return read(ctx.vault.db, KINDS[kind]);
}

/**
 * Deletes every retired blob the host still has, oldest first. Deleted, or refused for good (not
 * ours, malformed): crossed off. Unavailable (down, rate-limited, cut off): the rest wait for the
 * next pass. Stops asking the moment the account leaves (a lock, P46). Answers whether some are
 * left.
 */
export async function deleteRetiredBlobs(ctx: EngineContext): Promise<boolean> {
  let left = false;
  for (const kind of Object.values(KINDS)) left = (await deleteRetired(ctx, kind)) || left;
  return left;
}

async function deleteRetired(ctx: EngineContext, kind: Kind): Promise<boolean> {
  const me = ctx.me;
  const transport = kind.transport(ctx);
  if (!me || !transport || ctx.vault.locked) return false;
  const owed = await read(ctx.vault.db, kind);
  const done: Uint8Array[] = [];
  try {
    for (const address of owed) {
      if (ctx.me !== me) break;
      try {
        await transport.remove(address, kind.token(me.identity, address));
      } catch (e) {
        if (isEngineError(e, 'Unavailable') || !isCodedError(e)) throw e;
      }
      done.push(address);
    }
  } catch (e) {
    if (!isEngineError(e, 'Unavailable')) throw e;
  } finally {
    if (done.length > 0 && ctx.me === me) {
      await commit(ctx.vault, async (tx) => write(tx, kind, (await read(tx, kind)).filter((a) => !done.some((d) => bytesEqual(a, d)))));
    }
  }
  return ctx.me === me && done.length < owed.length;
}

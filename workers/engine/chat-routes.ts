/**
 * The vault's chat route key (SECURITY.md P46; src/lib/crypto/route-name.ts): conversations'
 * addresses hold their person's username sealed under it, so the browser's history and session
 * files name nobody. The key is made on first use and kept in the meta store sealed with the data
 * key (P32; turning the lock on re-seals it with the rest, so addresses survive that). The key's
 * subkeys stay in worker memory while the vault is open and are wiped when it locks
 * (memory-secrets.ts). Knows nothing of chats or pages.
 */
import { routeNamer, ROUTE_KEY_LEN, type RouteNamer } from '../../src/lib/crypto/route-name';
import { wipe } from '../../src/lib/crypto/primitives';
import type { Username } from '../../src/lib/codec/username';
import { openBytes, sealBytes } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { isCodedError } from '../../src/lib/codec/errors';

const META_KEY = 'routeKey';
const namers = new WeakMap<EngineContext, Promise<RouteNamer>>();

/** The stored key, or undefined when there is none or it no longer opens (P33: read as lost). */
function storedKey(tx: Tx, sealed: Sealed | undefined): Uint8Array | undefined {
  if (!sealed) return undefined;
  try {
    const key = openBytes(tx, 'meta', META_KEY, sealed);
    return key.length === ROUTE_KEY_LEN ? key : undefined;
  } catch (e) {
    if (isCodedError(e, 'StorageLost')) return undefined;
    throw e;
  }
}

/**
 * A key that is missing or lost (a row written under a data key another tab had just replaced)
 * is replaced by a fresh one: only addresses made under the old key stop naming their chat, and
 * the chat list, which needs a key for every row, keeps working.
 */
async function loadNamer(ctx: EngineContext): Promise<RouteNamer> {
  const key = await commit(ctx.vault, async (tx) => {
    const store = tx.objectStore('meta');
    const have = storedKey(tx, (await store.get(META_KEY)) as Sealed | undefined);
    if (have) return have;
    const fresh = ctx.deps.rng(ROUTE_KEY_LEN);
    await store.put(sealBytes(tx, 'meta', META_KEY, fresh), META_KEY);
    return fresh;
  });
  try {
    return routeNamer(key);
  } finally {
    wipe(key);
  }
}

function namer(ctx: EngineContext): Promise<RouteNamer> {
  let n = namers.get(ctx);
  if (!n) {
    n = loadNamer(ctx);
    n.catch(() => namers.delete(ctx));
    namers.set(ctx, n);
  }
  return n;
}

/** A group's members at most, and then some: one call's bound on the routes it asks for. */
export const MAX_ROUTES_ASKED = 1024;

/** The route segments of the chats with `usernames`, in order (the chat list, a group's members). */
export async function chatRoutes(ctx: EngineContext, usernames: readonly Username[]): Promise<string[]> {
  if (usernames.length === 0) return [];
  const n = await namer(ctx);
  return usernames.map((u) => n.seal(u));
}

/** Whose chat a route segment names; undefined for a segment this vault's key did not make. */
export async function openChatRoute(ctx: EngineContext, segment: string): Promise<Username | undefined> {
  return (await namer(ctx)).open(segment);
}

/** Wipes the subkeys held in memory (the vault locks, or the account leaves this browser). */
export function forgetChatRoutes(ctx: EngineContext): void {
  const n = namers.get(ctx);
  namers.delete(ctx);
  void n?.then((x) => x.forget(), () => undefined);
}

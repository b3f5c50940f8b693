/**
 * Groups a PIN restore could not bring back yet (DESIGN.md §7; README "PIN recovery": groups).
 * A restore fetches each group's state blob from the host (restore-groups.ts); when the host is
 * down, withholds the blob, or serves one that does not reach the head the record trusted, the
 * group is not guessed at, but neither is it forgotten: its record entry (id, master key, trusted
 * head, invite secret, adder) is kept here, sealed in the meta store (P32), and
 *
 * - tried again when the connection comes up (engine.ts), at most once per
 *   PENDING_RETRY_MIN_MS of our clock (a host that drops the socket after each "ready" would
 *   otherwise get a fetch per pending group per reconnect), through the same trusted-head check,
 *   so a later fetch can restore nothing a first one would have refused (P19);
 * - carried into every account record this browser uploads (record.ts), so one failed fetch at
 *   restore time does not drop the group from the backup for good;
 * - counted for the chat list, which says that some groups are still being fetched.
 *
 * An entry leaves when its group is restored, or when the group is on this browser by other means
 * (a member added us again).
 */
import { decodeGroupEntries, encodeGroupEntries, type GroupEntry } from '../../../src/lib/crypto/account-record';
import { toHex } from '../../../src/lib/codec/bytes';
import { getGroup } from '../../storage/group-repo';
import { openBytes, sealBytes } from '../../storage/record-seal';
import type { Sealed, Tx } from '../../storage/schema';
import { commit } from '../../storage/vault';
import type { EngineContext } from '../context';
import { minInterval } from '../min-interval';
import { restoreGroups } from './restore-groups';

const KEY = 'groupsPendingRestore';

/** The least time between two retries the connection starts (a restore's own fetch is the user's). */
export const PENDING_RETRY_MIN_MS = 60_000;
/** True when a reconnect may retry now (min-interval.ts): at most once per PENDING_RETRY_MIN_MS. */
export const mayRetryPendingGroups = minInterval(PENDING_RETRY_MIN_MS);

export async function pendingGroups(ctx: EngineContext): Promise<GroupEntry[]> {
  const sealed = (await ctx.vault.db.get('meta', KEY)) as Sealed | undefined;
  return sealed ? decodeGroupEntries(openBytes(ctx.vault.db, 'meta', KEY, sealed)) : [];
}

export async function putPendingGroups(tx: Tx, entries: readonly GroupEntry[]): Promise<void> {
  const meta = tx.objectStore('meta');
  if (entries.length === 0) await meta.delete(KEY);
  else await meta.put(sealBytes(tx, 'meta', KEY, encodeGroupEntries(entries)), KEY);
}

/** Fetches the pending groups again; returns how many came back. Runs in the engine's serial queue. */
export async function retryPendingGroups(ctx: EngineContext): Promise<number> {
  const pending = await pendingGroups(ctx);
  if (pending.length === 0) return 0;
  const absent: GroupEntry[] = [];
  for (const e of pending) if (!(await getGroup(ctx.vault, toHex(e.id)))) absent.push(e);
  const outcome = absent.length > 0 ? await restoreGroups(ctx, absent) : { restored: 0, missingEntries: [] };
  await commit(ctx.vault, (tx) => putPendingGroups(tx, outcome.missingEntries));
  if (outcome.missingEntries.length !== pending.length) ctx.events.emit({ type: 'chats' });
  return outcome.restored;
}

/**
 * What the receive loop (inbox.ts, group-receive.ts) records and answers for every envelope it
 * handles (DESIGN.md §5; SECURITY.md P14, P34): an envelope's outcome, the bounded failures store
 * (a hostile host cannot grow the vault without bound), and the ack that lets the host drop the
 * envelope (offline: the host redelivers, and the duplicate is acked then). Knows nothing of what
 * an envelope carries.
 */
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { isEngineError } from './errors';
import type { FailureRecord, Tx } from '../storage/schema';
import type { Envelope } from './transport';

/** Undecryptable-envelope records kept for diagnostics. */
export const MAX_FAILURES = 200;

export type ReceiveOutcome = 'stored' | 'duplicate' | 'dropped' | 'failed';

/** Keeps the newest MAX_FAILURES records: a hostile host cannot grow the vault without bound. */
export async function recordFailure(tx: Tx, f: FailureRecord): Promise<void> {
  const store = tx.objectStore('failures');
  await store.add(f);
  const excess = (await store.count()) - MAX_FAILURES;
  if (excess <= 0) return;
  let cursor = await store.openCursor();
  for (let i = 0; i < excess && cursor; i++) {
    await cursor.delete();
    cursor = await cursor.continue();
  }
}

export async function ack(ctx: EngineContext, env: Pick<Envelope, 'serverId'>): Promise<void> {
  try {
    await ctx.transport.ack(hostAuth(requireMe(ctx)), env.serverId);
  } catch (e) {
    // Offline: the host redelivers on reconnect and the duplicate is acked then.
    if (!isEngineError(e, 'Unavailable')) throw e;
  }
}

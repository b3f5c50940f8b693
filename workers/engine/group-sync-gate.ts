/**
 * The blob syncs the receive loop starts by itself (group-receive.ts; README "Groups"; P19): a
 * member's message showing a head we have not reached, or a message under a key we were never
 * given. Neither is the user's action, and the second needs nothing the host cannot forge: an
 * envelope naming a member and a random distribution id. Unchecked, every such envelope was one
 * fetch of the group's blob and one merge of its whole history (tens of ms at 1,000 members), and
 * a burst of messages from a member ahead of us was as many fetches of the same blob.
 *
 * So, per group:
 *   - one sync at a time; triggers while it runs make ONE more run after it, and only if it
 *     advanced (a later message may show a head beyond what it found);
 *   - a sync that brought nothing new (unchanged, unavailable, unreadable, failed) starts a quiet
 *     spell of our clock: triggers in it are dropped. The spell doubles with each such sync in a
 *     row, from SYNC_QUIET_MIN_MS to SYNC_QUIET_MAX_MS, and ends when one advances.
 * A forged flood therefore costs one fetch per quiet spell. A real catch-up waits at most the
 * spell: a send catches up first whatever the gate says (group-sendable.ts, the user's action).
 */
import type { EngineContext } from './context';
import type { SyncOutcome } from './group-sync';

export const SYNC_QUIET_MIN_MS = 2_000;
export const SYNC_QUIET_MAX_MS = 5 * 60_000;

interface Gate {
  running: boolean;
  /** A trigger arrived while running. */
  again: boolean;
  /** Our clock: triggers before this are dropped. */
  quietUntil: number;
  /** The last quiet spell's length, 0 after an advance. */
  quietMs: number;
}

const gates = new WeakMap<EngineContext, Map<string, Gate>>();

function gateOf(ctx: EngineContext, id: string): Gate {
  let m = gates.get(ctx);
  if (!m) gates.set(ctx, (m = new Map()));
  let g = m.get(id);
  if (!g) m.set(id, (g = { running: false, again: false, quietUntil: 0, quietMs: 0 }));
  return g;
}

/**
 * Runs `sync` for group `id` unless the gate holds it back (above). Resolves when this call's
 * runs end, at once for a trigger that was dropped or folded into a running sync; never rejects.
 */
export async function triggerSync(ctx: EngineContext, id: string, sync: () => Promise<SyncOutcome>): Promise<void> {
  const g = gateOf(ctx, id);
  if (g.running) {
    g.again = true;
    return;
  }
  // A spell longer than it was set for means our clock moved back: it is over, not longer.
  const now = ctx.deps.now();
  if (now < g.quietUntil && g.quietUntil - now <= g.quietMs) return;
  g.running = true;
  try {
    for (;;) {
      g.again = false;
      const outcome = await sync().catch((): SyncOutcome => 'unavailable');
      if (outcome === 'advanced') {
        g.quietMs = 0;
        g.quietUntil = 0;
        if (g.again) continue;
      } else {
        g.quietMs = Math.min(SYNC_QUIET_MAX_MS, g.quietMs === 0 ? SYNC_QUIET_MIN_MS : g.quietMs * 2);
        g.quietUntil = ctx.deps.now() + g.quietMs;
      }
      break;
    }
  } finally {
    g.running = false;
    g.again = false;
  }
}

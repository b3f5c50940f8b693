/**
 * "At most once per `ms`" for work the engine starts by itself on a signal the host controls (a
 * reconnect, a count it reports), per engine context and on our clock: a host that flaps the
 * connection gets the work done once per interval, not once per flap. A clock moved back ends
 * the wait instead of stretching it by the jump.
 */
import type { EngineContext } from './context';

export type IntervalGate = (ctx: EngineContext) => boolean;

/** A gate that answers true (and starts a new interval) when `ms` have passed since it last did. */
export function minInterval(ms: number): IntervalGate {
  const last = new WeakMap<EngineContext, number>();
  return (ctx) => {
    const now = ctx.deps.now();
    const at = last.get(ctx);
    if (at !== undefined && now >= at && now - at < ms) return false;
    last.set(ctx, now);
    return true;
  };
}

/**
 * The sweep that removes disappearing messages when their time is up (SECURITY.md P44; README
 * "Disappearing messages"). Runs in the vault worker when the account opens or unlocks (catching
 * up on what expired while the browser was closed) and then on a timer armed for the next
 * expiry; every removal goes through removeMessage (message-removal.ts), the one removal path.
 *
 * Timers alone are not trusted: a hidden tab's timers are throttled and a sleeping laptop's do
 * not run, so reading a conversation or the chat list first sweeps if the armed time has passed
 * (`sweepIfDue`, O(1) otherwise): nothing expired is ever shown.
 *
 * The sweep reads only the rows' clear `expiresAt` (no body is opened) and removes the due ones
 * in one transaction, re-checked inside it. It owns the timers (one per engine, never more than
 * MAX_DELAY_MS ahead, so a long timer is re-armed rather than trusted to a huge setTimeout), and
 * knows nothing of how a timer was agreed (disappearing.ts).
 */
import { txGetMessage } from '../storage/message-repo';
import type { MessageRow } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import type { EngineEvent } from './events';
import { removeMessage } from './message-removal';

/** The chat list's line for a chat whose last message expired (never its text, P44). */
export const EXPIRED_PREVIEW = 'Message expired';

/** The longest single wait; a later expiry re-arms after it (setTimeout holds at most 2^31 - 1 ms). */
export const MAX_DELAY_MS = 60 * 60_000;

type Armed = { at: number; handle: ReturnType<typeof setTimeout> };
const armed = new WeakMap<EngineContext, Armed>();
const stopped = new WeakSet<EngineContext>();

/**
 * Removes every message whose `expiresAt` has passed by the engine's clock; answers how many.
 * Call inside ctx.serial. Arms the timer for the next one still pending.
 */
export async function expireDue(ctx: EngineContext): Promise<number> {
  if (ctx.vault.locked || ctx.vault.lost || !ctx.me) return 0;
  const now = ctx.deps.now();
  const due: string[] = [];
  let next = Infinity;
  const tx = ctx.vault.db.transaction('messages', 'readonly');
  let cursor = await tx.store.openCursor();
  while (cursor) {
    const at = (cursor.value as MessageRow).expiresAt;
    if (at !== undefined) {
      if (at <= now) due.push(cursor.value.key);
      else next = Math.min(next, at);
    }
    cursor = await cursor.continue();
  }
  await tx.done;
  let events: EngineEvent[] = [];
  if (due.length > 0) {
    events = await commit(ctx.vault, async (tx) => {
      const out: EngineEvent[] = [];
      for (const key of due) {
        const m = await txGetMessage(tx, key);
        if (m?.expiresAt !== undefined && m.expiresAt <= now) out.push(...(await removeMessage(tx, m, EXPIRED_PREVIEW)));
      }
      return out;
    });
    let chats = false;
    for (const e of events) {
      if (e.type === 'chats') {
        if (chats) continue;
        chats = true;
      }
      ctx.events.emit(e);
    }
  }
  armExpiry(ctx, next === Infinity ? undefined : next);
  return events.filter((e) => e.type === 'message').length;
}

/** Makes sure a sweep runs by `at` (ms, engine clock); a later request than the armed one changes nothing. */
export function armExpiry(ctx: EngineContext, at: number | undefined): void {
  if (at === undefined || stopped.has(ctx)) return;
  const current = armed.get(ctx);
  if (current && current.at <= at) return;
  if (current) clearTimeout(current.handle);
  const delay = Math.min(Math.max(0, at - ctx.deps.now()), MAX_DELAY_MS);
  const handle = setTimeout(() => {
    armed.delete(ctx);
    void ctx.serial(() => expireDue(ctx)).catch(() => undefined);
  }, delay);
  // Node (tests): a pending sweep never keeps the process alive.
  (handle as { unref?: () => void }).unref?.();
  armed.set(ctx, { at, handle });
}

/** Sweeps now if the armed expiry has passed by the engine's clock (a throttled or slept timer); else nothing. */
export async function sweepIfDue(ctx: EngineContext): Promise<void> {
  const current = armed.get(ctx);
  if (!current || current.at > ctx.deps.now()) return;
  clearTimeout(current.handle);
  armed.delete(ctx);
  await ctx.serial(() => expireDue(ctx));
}

/** Starts sweeping (account loaded or unlocked): catches up at once, then follows the timers. */
export function startExpiry(ctx: EngineContext): Promise<number> {
  stopped.delete(ctx);
  return ctx.serial(() => expireDue(ctx));
}

/** Stops the timer (sign-out, lock, close); the next start catches up. */
export function stopExpiry(ctx: EngineContext): void {
  stopped.add(ctx);
  const current = armed.get(ctx);
  if (current) clearTimeout(current.handle);
  armed.delete(ctx);
}

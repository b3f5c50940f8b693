/**
 * Helpers for engine tests that run against the real host over real sockets, where there is no
 * settle point to await: poll until a check passes, and read a chat's message texts.
 */
import type { Engine } from '../../workers/engine/engine';

/** Polls `check` every 25 ms until it passes, or rethrows its last failure after `ms`. */
export async function eventually(check: () => Promise<void> | void, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** The texts of a chat in order, without system entries (notices, call log). */
export async function texts(e: Engine, chat: string): Promise<string[]> {
  return (await e.listMessages(chat)).filter((m) => m.direction !== 'system').map((m) => m.body);
}

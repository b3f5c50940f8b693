/**
 * The driver's receive loop (DESIGN.md §5): envelopes the host pushes wait here and are handled
 * a page at a time (inbox.ts `receiveEnvelopes`: one transaction per page, each envelope acked
 * only after it), each page one step of the engine's serial queue, so sends and other ratchet
 * steps interleave between pages. A burst (the backlog pushed on connect, a fast stream) thus
 * shares transactions; a lone envelope is a page of one, handled as soon as the queue is free.
 * Sealed envelopes (P41) wait in the same queue, in host order, and share the same pages.
 * Knows nothing of what the envelopes hold.
 */
import type { EngineContext } from './context';
import { MAX_PAGE, receiveEnvelopes } from './inbox';
import type { Envelope, SealedEnvelope } from './transport';

export class ReceiveQueue {
  #waiting: (Envelope | SealedEnvelope)[] = [];
  #scheduled = false;

  constructor(
    private readonly ctx: EngineContext,
    /** An envelope that failed for a reason of ours (not acked: the host redelivers it). */
    private readonly onError: (env: Envelope | SealedEnvelope, e: unknown) => void
  ) {}

  push(env: Envelope | SealedEnvelope): void {
    this.#waiting.push(env);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    void this.ctx.serial(async () => {
      this.#scheduled = false;
      const page = this.#waiting.splice(0, MAX_PAGE);
      if (this.#waiting.length > 0) this.#schedule();
      try {
        await receiveEnvelopes(this.ctx, page, this.onError);
      } catch (e) {
        // It reports per envelope; only a missing account fails the whole page before any.
        for (const env of page) this.onError(env, e);
      }
    });
  }
}

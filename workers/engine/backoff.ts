/**
 * A doubling delay for work retried while the host does not answer: the outbox flush (engine.ts)
 * and the blob DELETE passes (blob-withdrawals.ts). One timer at most; none while `wanted` says no
 * (the engine does not want a connection). Each timer waits the current delay, and the next one
 * twice as long, up to `maxMs`; `reset` starts again from `baseMs` (the host answered).
 */
export class Backoff {
  #timer?: ReturnType<typeof setTimeout>;
  #delay: number;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly wanted: () => boolean
  ) {
    this.#delay = baseMs;
  }

  /** Runs `fn` after the current delay and doubles it; nothing if a timer waits or it is not wanted. */
  schedule(fn: () => void): void {
    if (this.#timer !== undefined || !this.wanted()) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      fn();
    }, this.#delay);
    this.#delay = Math.min(this.maxMs, this.#delay * 2);
  }

  /** The next delay is `baseMs` again; a timer already waiting keeps its own. */
  reset(): void {
    this.#delay = this.baseMs;
  }

  /** Drops the waiting timer, if any (the delay stays); `schedule` may set a new one. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * When the composer tells the other side we are typing (README "Typing indicators"), as Signal's
 * clients do: "started" on the first keystroke, again every REPEAT_MS while keystrokes continue (so
 * the receiver's 15-second expiry never runs out on a long message), "stopped" after IDLE_MS
 * without a keystroke, when the box is emptied, or when the chat is left. Sending the message stops
 * it silently: the message itself clears the indicator on the other side, so no extra envelope.
 *
 * Only the user's own keystrokes drive it: nothing received can make it send. Pure: the send and
 * the clock are injected; knows nothing of the vault or the DOM.
 */

/** A repeated "started" while typing continues. */
export const REPEAT_MS = 10_000;
/** Without a keystroke this long, "stopped". */
export const IDLE_MS = 3_000;

export interface TypingTimers {
  now(): number;
  set(f: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: TypingTimers = {
  now: () => Date.now(),
  set: (f, ms) => setTimeout(f, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>)
};

export class TypingSender {
  #started = false;
  #lastStart = 0;
  #idle: unknown;

  constructor(
    /** Answers (or resolves to) false when nothing went: the next keystroke tries again. */
    private readonly send: (typing: boolean) => boolean | Promise<boolean>,
    private readonly timers: TypingTimers = realTimers
  ) {}

  /** A keystroke; `hasText`: the box still holds text after it. */
  input(hasText: boolean): void {
    if (!hasText) return this.stop();
    const now = this.timers.now();
    if (!this.#started || now - this.#lastStart >= REPEAT_MS) {
      this.#started = true;
      this.#lastStart = now;
      void Promise.resolve(this.send(true)).then((went) => {
        // Not sent (something else queued for them, offline): this start did not happen.
        if (!went && this.#lastStart === now) this.#started = false;
      });
    }
    this.#clearIdle();
    this.#idle = this.timers.set(() => this.stop(), IDLE_MS);
  }

  /** The message went: typing is over without a "stopped" (the message clears it over there). */
  sent(): void {
    this.#clearIdle();
    this.#started = false;
  }

  /** Idle, emptied, or the chat was left: "stopped" if "started" went. */
  stop(): void {
    this.#clearIdle();
    if (!this.#started) return;
    this.#started = false;
    this.send(false);
  }

  #clearIdle(): void {
    if (this.#idle !== undefined) this.timers.clear(this.#idle);
    this.#idle = undefined;
  }
}

/**
 * A coarse reactive clock for "Today" / "Yesterday" / "14:05" labels: ticks once a minute, so
 * labels roll over at midnight without re-rendering on every second.
 */
const TICK_MS = 60_000;

class Clock {
  now = $state(Date.now());
  #timer: ReturnType<typeof setInterval> | undefined;
  #users = 0;

  /** Starts ticking while at least one component uses the clock; returns the release function. */
  use(): () => void {
    if (this.#users++ === 0) {
      this.now = Date.now();
      this.#timer = setInterval(() => (this.now = Date.now()), TICK_MS);
    }
    return () => {
      if (--this.#users === 0) clearInterval(this.#timer);
    };
  }
}

export const clock = new Clock();

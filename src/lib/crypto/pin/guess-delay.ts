/**
 * Growing per-user delays between PIN guesses at a realm (SECURITY.md P38; Juicebox and Signal
 * SVR leave rate limits to the realm, this is ours).
 *
 * The guess limit (P23) bounds how MANY guesses anyone gets; this bounds how FAST. After w wrong
 * guesses since the last correct one, the next evaluation is refused until
 * `delayAfter(w)` has passed since the last evaluation:
 *
 *   w:      0  1  2      3      4      5      6       7       8       9       ...
 *   delay:  0  0  1 min  2 min  4 min  8 min  16 min  32 min  64 min  128 min ... (cap 12 h)
 *
 * Two free retries cover typos. Burning a 10-guess registration then takes over four hours
 * (1 + 2 + ... + 128 min), time in which the signed-in app shows the owner "N wrong PIN attempts
 * since ..." and the owner can re-register (a fresh registration starts from zero). A refused
 * evaluation charges nothing. Pure: time comes from the caller.
 */

export const FREE_WRONG_GUESSES = 2;
export const FIRST_DELAY_MS = 60_000;
export const MAX_DELAY_MS = 12 * 60 * 60 * 1000;

/** How long after a wrong guess the next evaluation must wait, given the wrong guesses so far. */
export function delayAfter(wrongGuesses: number): number {
  if (wrongGuesses < FREE_WRONG_GUESSES) return 0;
  const doublings = wrongGuesses - FREE_WRONG_GUESSES;
  return doublings >= 20 ? MAX_DELAY_MS : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** doublings);
}

/** Milliseconds still to wait at `now` (0 when an evaluation is allowed). */
export function waitBeforeEvaluation(wrongGuesses: number, lastEvaluationAt: number, now: number): number {
  const delay = delayAfter(wrongGuesses);
  // Capped at the delay itself, so a clock that stepped back cannot lock a user out for longer.
  return Math.min(delay, Math.max(0, lastEvaluationAt + delay - now));
}

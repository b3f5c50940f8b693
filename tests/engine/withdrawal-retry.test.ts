/**
 * When the engine runs its passes over the deletes the host has not confirmed
 * (workers/engine/blob-withdrawals.ts `WithdrawalRetry`): at once when kicked; while a pass leaves
 * some, again after a delay that doubles up to WITHDRAW_RETRY_MAX_MS; after the delay only when
 * asked for `later` (the caller's own attempt has just failed); none while no connection is wanted.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { WITHDRAW_RETRY_MAX_MS, WithdrawalRetry } from '../../workers/engine/blob-withdrawals';

const BASE = 100;

function retry(answers: boolean[], wanted = { on: true }): { r: WithdrawalRetry; passes: number[] } {
  const passes: number[] = [];
  const r = new WithdrawalRetry(
    async () => {
      passes.push(Date.now());
      return answers.shift() ?? false;
    },
    BASE,
    () => wanted.on,
    (p) => p
  );
  return { r, passes };
}

describe('WithdrawalRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('a kick runs a pass at once; while passes leave some, the next ones follow after 1, 2, 4… times the base delay; a pass with nothing left ends it', async () => {
    const { r, passes } = retry([true, true, true, false]);
    r.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toEqual([0]);
    await vi.advanceTimersByTimeAsync(10 * BASE);
    expect(passes).toEqual([0, BASE, 3 * BASE, 7 * BASE]);
    await vi.advanceTimersByTimeAsync(WITHDRAW_RETRY_MAX_MS);
    expect(passes).toHaveLength(4);
  });

  test('later runs no pass now, one after the delay', async () => {
    const { r, passes } = retry([false]);
    r.later();
    await vi.advanceTimersByTimeAsync(BASE - 1);
    expect(passes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toEqual([BASE]);
  });

  test('nothing is scheduled while no connection is wanted, and stop drops what waits', async () => {
    const wanted = { on: false };
    const { r, passes } = retry([true, true], wanted);
    r.later();
    await vi.advanceTimersByTimeAsync(10 * BASE);
    expect(passes).toEqual([]);
    wanted.on = true;
    r.later();
    r.stop();
    await vi.advanceTimersByTimeAsync(10 * BASE);
    expect(passes).toEqual([]);
  });
});

/**
 * The once-per-interval gate for work the engine starts on signals the host controls
 * (workers/engine/min-interval.ts: prekey refills P9, profile refreshes P43): per context, on the
 * engine's own clock, and a clock moved back ends the wait.
 */
import { expect, test } from 'vitest';
import type { EngineContext } from '../../workers/engine/context';
import { minInterval } from '../../workers/engine/min-interval';

test('once per interval per context; a clock moved back ends the wait', () => {
  const clock = { at: 5_000_000 };
  const ctx = () => ({ deps: { now: () => clock.at } }) as unknown as EngineContext;
  const a = ctx();
  const b = ctx();
  const may = minInterval(60_000);
  expect(may(a)).toBe(true);
  expect(may(a)).toBe(false);
  expect(may(b)).toBe(true);
  clock.at += 59_999;
  expect(may(a)).toBe(false);
  clock.at += 1;
  expect(may(a)).toBe(true);
  expect(may(a)).toBe(false);
  clock.at -= 3600_000;
  expect(may(a)).toBe(true);
  expect(may(a)).toBe(false);
  // Another gate keeps its own times.
  expect(minInterval(60_000)(a)).toBe(true);
});

/**
 * The gate on the blob syncs the receive loop starts by itself (workers/engine/group-sync-gate.ts;
 * README "Groups"; P19): one at a time per group, one more run only after an advance, and a quiet
 * spell of our clock after a sync that brought nothing, doubling to a cap and reset by an advance.
 */
import { describe, expect, test } from 'vitest';
import type { EngineContext } from '../../workers/engine/context';
import type { SyncOutcome } from '../../workers/engine/group-sync';
import { SYNC_QUIET_MAX_MS, SYNC_QUIET_MIN_MS, triggerSync } from '../../workers/engine/group-sync-gate';

function rig() {
  const clock = { at: 1_000_000 };
  const ctx = { deps: { now: () => clock.at } } as unknown as EngineContext;
  const runs: string[] = [];
  /** A sync that waits for `release` and then gives `outcome`. */
  const held = (id: string, outcome: SyncOutcome) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sync = async (): Promise<SyncOutcome> => {
      runs.push(id);
      await gate;
      return outcome;
    };
    return { sync, release };
  };
  const instant = (id: string, outcome: SyncOutcome | Error) => async (): Promise<SyncOutcome> => {
    runs.push(id);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { ctx, clock, runs, held, instant };
}

describe('group sync gate', () => {
  test('P19 triggers during a sync that advanced make exactly one more run; after one that did not, none', async () => {
    const { ctx, runs, held, instant } = rig();
    const first = held('g', 'advanced');
    const running = triggerSync(ctx, 'g', first.sync);
    // Fifty messages from a member ahead of us arrive while the fetch is out.
    for (let i = 0; i < 50; i++) await triggerSync(ctx, 'g', instant('g', 'unchanged'));
    expect(runs).toEqual(['g']);
    first.release();
    await running;
    expect(runs).toEqual(['g', 'g']);

    const { ctx: ctx2, runs: runs2, held: held2, instant: instant2 } = rig();
    const second = held2('h', 'unchanged');
    const p = triggerSync(ctx2, 'h', second.sync);
    for (let i = 0; i < 50; i++) await triggerSync(ctx2, 'h', instant2('h', 'advanced'));
    second.release();
    await p;
    expect(runs2).toEqual(['h']);
  });

  test('P19 after a sync that brought nothing, triggers wait out a quiet spell that doubles to a cap; an advance ends it', async () => {
    const { ctx, clock, runs, instant } = rig();
    const nothing = instant('g', 'unchanged');
    await triggerSync(ctx, 'g', nothing);
    expect(runs).toHaveLength(1);
    // Spells of 2 s, 4 s, 8 s, … : a trigger just before each ends is dropped, one at its end runs.
    let spell = SYNC_QUIET_MIN_MS;
    for (let k = 0; k < 12; k++) {
      clock.at += spell - 1;
      await triggerSync(ctx, 'g', nothing);
      expect(runs).toHaveLength(1 + k);
      clock.at += 1;
      await triggerSync(ctx, 'g', nothing);
      expect(runs).toHaveLength(2 + k);
      spell = Math.min(SYNC_QUIET_MAX_MS, spell * 2);
    }
    expect(spell).toBe(SYNC_QUIET_MAX_MS);
    // Other groups have their own gates.
    await triggerSync(ctx, 'other', instant('other', 'unchanged'));
    expect(runs.at(-1)).toBe('other');
    // An advance ends the spells: the next one after a miss is the shortest again.
    clock.at += SYNC_QUIET_MAX_MS;
    await triggerSync(ctx, 'g', instant('g', 'advanced'));
    const count = runs.length;
    await triggerSync(ctx, 'g', nothing);
    expect(runs).toHaveLength(count + 1);
    clock.at += SYNC_QUIET_MIN_MS - 1;
    await triggerSync(ctx, 'g', nothing);
    expect(runs).toHaveLength(count + 1);
    clock.at += 1;
    await triggerSync(ctx, 'g', nothing);
    expect(runs).toHaveLength(count + 2);
  });

  test('P19 a clock moved back does not stretch a quiet spell', async () => {
    const { ctx, clock, runs, instant } = rig();
    await triggerSync(ctx, 'g', instant('g', 'unchanged'));
    clock.at -= 24 * 3600_000;
    await triggerSync(ctx, 'g', instant('g', 'unchanged'));
    expect(runs).toHaveLength(2);
    // The spell set from the moved clock holds as usual (the second in a row: twice the first).
    clock.at += 2 * SYNC_QUIET_MIN_MS - 1;
    await triggerSync(ctx, 'g', instant('g', 'unchanged'));
    expect(runs).toHaveLength(2);
  });

  test('a sync that fails counts as one that brought nothing, and the trigger never rejects', async () => {
    const { ctx, clock, runs, instant } = rig();
    await expect(triggerSync(ctx, 'g', instant('g', new Error('host down')))).resolves.toBeUndefined();
    await triggerSync(ctx, 'g', instant('g', 'advanced'));
    expect(runs).toHaveLength(1);
    clock.at += SYNC_QUIET_MIN_MS;
    await triggerSync(ctx, 'g', instant('g', 'advanced'));
    expect(runs).toHaveLength(2);
  });
});

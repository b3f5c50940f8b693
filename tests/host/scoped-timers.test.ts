/**
 * src/host/calls/scoped-timers.ts: the timers a library re-arms for ever (peer's PeerServer) are
 * recorded through every re-arm and stopped with the host; nothing outside the scope is touched.
 */
import { describe, expect, test } from 'vitest';
import { scopedTimers } from '../../src/host/calls/scoped-timers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scoped timers', () => {
  test('a timer that re-arms itself from its own callback is recorded each time and stops for good', async () => {
    const timers = scopedTimers();
    let ticks = 0;
    // As peer's connection check: start() sets a timeout whose callback calls start() again.
    const start = (): void => void setTimeout(() => {
      ticks++;
      start();
    }, 5);
    timers.run(start);
    await sleep(60);
    expect(ticks).toBeGreaterThan(2);
    expect(timers.pending()).toBe(1);
    timers.stop();
    const at = ticks;
    await sleep(60);
    expect(ticks).toBe(at);
    expect(timers.pending()).toBe(0);
  });

  test('intervals stop too, cleared timers are forgotten, and the globals are the real ones outside run, even after a throw', async () => {
    const real = { setTimeout, setInterval, clearTimeout, clearInterval };
    const timers = scopedTimers();
    let beats = 0;
    timers.run(() => {
      setInterval(() => beats++, 5);
      clearTimeout(setTimeout(() => {}, 1000));
    });
    expect(timers.pending()).toBe(1);
    expect(() => timers.run(() => {
      throw new Error('boom');
    })).toThrow('boom');
    expect({ setTimeout, setInterval, clearTimeout, clearInterval }).toEqual(real);
    await sleep(40);
    expect(beats).toBeGreaterThan(1);
    timers.stop();
    const at = beats;
    await sleep(40);
    expect(beats).toBe(at);
    // A timer made outside the scope is not the scope's to stop.
    let outside = false;
    setTimeout(() => (outside = true), 5);
    timers.stop();
    await sleep(30);
    expect(outside).toBe(true);
  });
});

/**
 * The in-process lock manager the Node tests give engines in place of Web Locks
 * (workers/engine/lock.ts memoryLocks): it must behave as the browser's does, or tests of the
 * driver lock (P18) and the file-copy lock (storage/copy-lock.ts) would prove nothing.
 */
import { describe, expect, test } from 'vitest';
import { memoryLocks } from '../../workers/engine/lock';

/** Holds `name` in `mode` until the returned release is called; `granted` settles when held. */
function hold(locks: ReturnType<typeof memoryLocks>, name: string, mode: 'shared' | 'exclusive', log: string[], tag: string) {
  let release = () => undefined as void;
  const granted = new Promise<void>((g) => {
    void locks.request(name, { mode }, () => {
      log.push(`+${tag}`);
      g();
      return new Promise<void>((r) => (release = () => (log.push(`-${tag}`), r())));
    });
  });
  return { granted, release: () => release() };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('memoryLocks, as Web Locks', () => {
  test('shared holders share; an exclusive request waits for all of them', async () => {
    const locks = memoryLocks();
    const log: string[] = [];
    const a = hold(locks, 'n', 'shared', log, 'a');
    const b = hold(locks, 'n', 'shared', log, 'b');
    await Promise.all([a.granted, b.granted]);
    const x = hold(locks, 'n', 'exclusive', log, 'x');
    await tick();
    expect(log).toEqual(['+a', '+b']);
    a.release();
    await tick();
    expect(log).toEqual(['+a', '+b', '-a']);
    b.release();
    await x.granted;
    expect(log).toEqual(['+a', '+b', '-a', '-b', '+x']);
    x.release();
  });

  test('requests are served in order: a shared request behind a waiting exclusive one waits too', async () => {
    const locks = memoryLocks();
    const log: string[] = [];
    const a = hold(locks, 'n', 'shared', log, 'a');
    await a.granted;
    const x = hold(locks, 'n', 'exclusive', log, 'x');
    const c = hold(locks, 'n', 'shared', log, 'c');
    await tick();
    expect(log).toEqual(['+a']);
    a.release();
    await x.granted;
    await tick();
    expect(log).toEqual(['+a', '-a', '+x']);
    x.release();
    await c.granted;
    expect(log).toEqual(['+a', '-a', '+x', '-x', '+c']);
    c.release();
  });

  test('ifAvailable is answered at once: null while held in a conflicting mode, the lock when free', async () => {
    const locks = memoryLocks();
    const log: string[] = [];
    const a = hold(locks, 'n', 'shared', log, 'a');
    await a.granted;
    const got: unknown[] = [];
    await locks.request('n', { mode: 'exclusive', ifAvailable: true }, async (l) => void got.push(l));
    await locks.request('n', { mode: 'shared', ifAvailable: true }, async (l) => void got.push(l));
    await locks.request('other', { mode: 'exclusive', ifAvailable: true }, async (l) => void got.push(l));
    expect(got[0]).toBeNull();
    expect(got[1]).not.toBeNull();
    expect(got[2]).not.toBeNull();
    a.release();
    await tick();
    await locks.request('n', { mode: 'exclusive', ifAvailable: true }, async (l) => void got.push(l));
    expect(got[3]).not.toBeNull();
  });

  test('the two-argument form is exclusive', async () => {
    const locks = memoryLocks();
    const log: string[] = [];
    let release = () => undefined as void;
    await new Promise<void>((g) => {
      void locks.request('n', () => {
        g();
        return new Promise<void>((r) => (release = r));
      });
    });
    const s = hold(locks, 'n', 'shared', log, 's');
    await tick();
    expect(log).toEqual([]);
    release();
    await s.granted;
    expect(log).toEqual(['+s']);
    s.release();
  });
});

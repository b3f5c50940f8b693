/**
 * The vault's two uses of Web Locks (workers/storage/web-lock.ts), on the in-process lock manager
 * the Node tests give engines (memory-locks.test.ts shows it behaves as the browser's): a hold,
 * and "is anyone holding this now". The unsent-files notice and the file-copy sweep stand on them:
 * a hold that leaked would hide a cut-off upload for good; one that was never taken would show a
 * running upload as stopped, or sweep a copy another tab is writing.
 */
import { describe, expect, test } from 'vitest';
import { memoryLocks } from '../../workers/engine/lock';
import { holdWebLock, whenLockFree } from '../../workers/storage/web-lock';

const free = (locks: ReturnType<typeof memoryLocks> | undefined, name: string) => whenLockFree(locks, name, () => Promise.resolve('free'), 'busy');

describe('web-lock', () => {
  test('a hold makes the lock busy for every other asker until it is released', async () => {
    const locks = memoryLocks();
    const hold = holdWebLock(locks, 'upload:a', 'exclusive');
    await hold.granted;
    expect(await free(locks, 'upload:a')).toBe('busy');
    expect(await free(locks, 'upload:b')).toBe('free');
    hold.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(await free(locks, 'upload:a')).toBe('free');
  });

  test('shared holds are busy to an exclusive look until the last one goes', async () => {
    const locks = memoryLocks();
    const a = holdWebLock(locks, 'copies', 'shared');
    const b = holdWebLock(locks, 'copies', 'shared');
    await Promise.all([a.granted, b.granted]);
    a.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(await free(locks, 'copies')).toBe('busy');
    b.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(await free(locks, 'copies')).toBe('free');
  });

  test('a hold released before it was granted lets the lock go as soon as it gets it', async () => {
    const locks = memoryLocks();
    const first = holdWebLock(locks, 'upload:a', 'exclusive');
    await first.granted;
    const second = holdWebLock(locks, 'upload:a', 'exclusive');
    second.release();
    first.release();
    await second.granted;
    await new Promise((r) => setTimeout(r, 0));
    expect(await free(locks, 'upload:a')).toBe('free');
  });

  test('the look runs its work while holding the lock, so a hold asked meanwhile waits for it', async () => {
    const locks = memoryLocks();
    const order: string[] = [];
    let late: ReturnType<typeof holdWebLock> | undefined;
    await whenLockFree(
      locks,
      'copies',
      async () => {
        late = holdWebLock(locks, 'copies', 'shared');
        void late.granted.then(() => order.push('hold'));
        await new Promise((r) => setTimeout(r, 10));
        order.push('sweep');
      },
      undefined
    );
    await late!.granted;
    expect(order).toEqual(['sweep', 'hold']);
    late!.release();
  });

  test('without a lock manager a hold is granted at once and every lock looks free', async () => {
    const hold = holdWebLock(undefined, 'upload:a', 'exclusive');
    await hold.granted;
    expect(await free(undefined, 'upload:a')).toBe('free');
    hold.release();
  });

  test('a lock manager that fails does not stall the work it guards', async () => {
    const failing = { request: () => Promise.reject(new Error('worker closing')) };
    await expect(holdWebLock(failing, 'upload:a', 'exclusive').granted).resolves.toBeUndefined();
  });
});

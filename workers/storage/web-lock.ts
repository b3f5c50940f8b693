/**
 * The two uses the vault makes of the origin's Web Locks (VaultLocks, schema.ts): a hold for as
 * long as some work runs in this worker, and a look at whether any worker holds a lock now. The
 * browser releases a closed tab's locks, which is what both callers rely on (copy-lock.ts: which
 * tab may sweep unfinished file copies; unsent-files.ts: which uploads were cut off).
 * Without a lock manager (a browser without Web Locks; the vault is then read-only, P18) a hold is
 * granted at once and every lock looks free.
 */
import type { VaultLocks } from './schema';

/** A hold on one lock: `granted` settles once held; `release` may come before that. */
export interface LockHold {
  granted: Promise<void>;
  release(): void;
}

export function holdWebLock(locks: VaultLocks | undefined, name: string, mode: 'exclusive' | 'shared'): LockHold {
  if (!locks) return { granted: Promise.resolve(), release: () => undefined };
  let release = (): void => undefined;
  let released = false;
  const granted = new Promise<void>((resolve) => {
    locks
      .request(name, { mode }, () => {
        resolve();
        if (released) return Promise.resolve();
        return new Promise<void>((r) => (release = r));
      })
      // A lock manager that fails (a closing worker) must not stall the work it guards.
      .catch(() => resolve());
  });
  return {
    granted,
    release: () => {
      released = true;
      release();
    }
  };
}

/** Runs `run` holding `name` exclusively if no one holds it now; else answers `busy` without waiting. */
export async function whenLockFree<T>(locks: VaultLocks | undefined, name: string, run: () => Promise<T>, busy: T): Promise<T> {
  if (!locks) return run();
  let out = busy;
  await locks.request(name, { mode: 'exclusive', ifAvailable: true }, async (lock) => {
    if (lock) out = await run();
  });
  return out;
}

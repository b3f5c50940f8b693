/**
 * Which tab may sweep the parts of unfinished file copies (file-repo.ts; README "Attachments (as
 * built)", at rest in the browser). Every CopyWriter holds the Web Lock
 * `parley-file-copies:<vault>` SHARED from before its first write until `finish`; the start-up
 * sweep runs only when it gets the lock EXCLUSIVE at once (ifAvailable). So a tab that starts
 * while another tab's transfer is writing its copy leaves those parts alone (the copy is kept and
 * the blob released as if no tab had started), and a later start, with no writer left, sweeps what
 * a closed tab cut off. The browser releases a closed tab's locks.
 * Without a lock manager writers take nothing and the sweep always runs; the mark's own check
 * (CopyWriter.txWhole) still refuses a copy swept mid-way, so nothing is released for it.
 */
import type { Vault } from './schema';

export const copyLockName = (vault: Vault): string => `parley-file-copies:${vault.name}`;

/** A shared hold on the copy lock: `granted` settles once held (at once without Web Locks). */
export interface CopyHold {
  granted: Promise<void>;
  release(): void;
}

export function holdCopyLock(vault: Vault): CopyHold {
  if (!vault.locks) return { granted: Promise.resolve(), release: () => undefined };
  let release = (): void => undefined;
  let released = false;
  const granted = new Promise<void>((resolve) => {
    vault
      .locks!.request(copyLockName(vault), { mode: 'shared' }, () => {
        resolve();
        if (released) return Promise.resolve();
        return new Promise<void>((r) => (release = r));
      })
      // A lock manager that fails (a closing worker) must not stall the transfer.
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

/** Runs `sweep` if no tab holds the copy lock now; else answers `skipped` without waiting. */
export async function whenNoCopyWriter<T>(vault: Vault, sweep: () => Promise<T>, skipped: T): Promise<T> {
  if (!vault.locks) return sweep();
  let out = skipped;
  await vault.locks.request(copyLockName(vault), { mode: 'exclusive', ifAvailable: true }, async (lock) => {
    if (lock) out = await sweep();
  });
  return out;
}

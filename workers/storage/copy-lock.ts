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
import { holdWebLock, whenLockFree, type LockHold } from './web-lock';

export const copyLockName = (vault: Vault): string => `parley-file-copies:${vault.name}`;

/** A shared hold on the copy lock: `granted` settles once held (at once without Web Locks). */
export type CopyHold = LockHold;

export function holdCopyLock(vault: Vault): CopyHold {
  return holdWebLock(vault.locks, copyLockName(vault), 'shared');
}

/** Runs `sweep` if no tab holds the copy lock now; else answers `skipped` without waiting. */
export function whenNoCopyWriter<T>(vault: Vault, sweep: () => Promise<T>, skipped: T): Promise<T> {
  return whenLockFree(vault.locks, copyLockName(vault), sweep, skipped);
}

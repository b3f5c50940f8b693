// The app lock in tests (SECURITY.md P46): a cheap Argon2id (the production cost is pinned in
// crypto/app-lock.ts) and one passphrase strong enough for the lock's rule.
import type { LockKdf } from '../../workers/engine/app-lock';

export const TEST_LOCK_KDF: LockKdf = { opslimit: 1, memlimitBytes: 8192 };
export const TEST_LOCK_PASS = 'velvet tundra quiz marmalade osprey 93';

/**
 * The vault API: every operation the main thread may ask of the key-holding worker (DESIGN.md §1
 * "Keys never leave the vault worker"). Methods take and return plain data, never key bytes, and
 * always resolve to a Result so error codes survive Comlink (see result.ts).
 *
 * Issue 2 surface: `ready` and `selfTest`. Storage, sessions and delivery arrive with later issues.
 */
import { systemDeps } from '../../src/lib/crypto/deps';
import type { Result } from '../../src/lib/crypto/errors';
import { initSodium } from '../../src/lib/crypto/sodium';
import { toResult } from './result';
import { runSelfTest, type SelfTestReport } from './self-test';

/** Bumped when the API shape changes, so a stale cached worker is noticed. */
export const VAULT_API_VERSION = 1;

export interface VaultInfo {
  version: number;
  /** libsodium's version string: proves the wasm module is loaded. */
  sodium: string;
}

export class VaultApi {
  ready(): Promise<Result<VaultInfo>> {
    return toResult(async () => {
      const s = await initSodium();
      return { version: VAULT_API_VERSION, sodium: s.sodium_version_string() };
    });
  }

  selfTest(text: string): Promise<Result<SelfTestReport>> {
    return toResult(async () => {
      await initSodium();
      return runSelfTest(text, systemDeps);
    });
  }
}

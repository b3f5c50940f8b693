/**
 * The one owner of the vault worker on the main thread (DESIGN.md §1, §2 `client/`).
 *
 * Starts the module worker, wraps it with Comlink and turns each `Result<T>` back into either a
 * value or a thrown `VaultError` whose `code` the UI can switch on. Holds no key material: the
 * worker API only ever returns plain, public data.
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import type { ErrorCode, Result } from '$lib/crypto/errors';
import type { VaultApi, VaultInfo } from '../../../workers/engine/vault-api';
import type { SelfTestReport } from '../../../workers/engine/self-test';

export type { VaultInfo, SelfTestReport };

/** A vault failure as the UI sees it: a stable code plus a message without secrets. */
export class VaultError extends Error {
  readonly code: ErrorCode | 'Unknown';

  constructor(code: ErrorCode | 'Unknown', message: string) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
  }
}

function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new VaultError(result.error.code, result.error.message);
}

export class VaultClient {
  readonly #worker: Worker;
  readonly #api: Remote<VaultApi>;

  constructor() {
    // The literal `new URL(…, import.meta.url)` is what lets Vite bundle the worker.
    this.#worker = new Worker(new URL('../../../workers/vault.worker.ts', import.meta.url), { type: 'module' });
    this.#api = wrap<VaultApi>(this.#worker);
  }

  /** Resolves once libsodium is loaded inside the worker. */
  async ready(): Promise<VaultInfo> {
    return unwrap(await this.#api.ready());
  }

  /** Round-trips `text` through a throw-away PQXDH + Double Ratchet session inside the worker. */
  async selfTest(text: string): Promise<SelfTestReport> {
    return unwrap(await this.#api.selfTest(text));
  }

  terminate(): void {
    this.#api[releaseProxy]();
    this.#worker.terminate();
  }
}

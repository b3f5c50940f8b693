/**
 * The one owner of the vault worker on the main thread (DESIGN.md §1, §2 `client/`).
 *
 * Starts the module worker, wraps it with Comlink and hands the page the vault contract
 * (src/lib/vault/contract.ts) through `callVault`: each answer is a value or a thrown VaultError
 * whose `code` the UI switches on. The only Comlink-specific step is `subscribe`, whose listener
 * must cross as a proxy. Holds no key material: the contract only ever returns public data.
 */
import { proxy, wrap, releaseProxy, type Remote } from 'comlink';
import type { RemoteVault, VaultContract } from '../vault/contract';
import { callVault } from '../vault/remote';
import { VaultError } from '../vault/result';

export { VaultError };

export class VaultClient {
  readonly #worker: Worker;
  readonly #remote: Remote<RemoteVault>;
  /** The vault contract, answered by the worker. */
  readonly vault: VaultContract;

  constructor() {
    // The literal `new URL(…, import.meta.url)` is what lets Vite bundle the worker.
    this.#worker = new Worker(new URL('../../../workers/vault.worker.ts', import.meta.url), { type: 'module' });
    this.#remote = wrap<RemoteVault>(this.#worker);
    const called = callVault(this.#remote as unknown as RemoteVault);
    this.vault = Object.freeze({ ...called, subscribe: (listener) => called.subscribe(proxy(listener)) } satisfies VaultContract);
  }

  terminate(): void {
    this.#remote[releaseProxy]();
    this.#worker.terminate();
  }
}

/**
 * The one generic wrapper on each side of the worker boundary (contract.ts):
 *   worker side  `serveVault(impl)`  -> a frozen, prototype-free object of exactly VAULT_METHODS,
 *                                       each running the method inside `toResult`;
 *   page side    `callVault(remote)` -> the contract again, each answer `unwrap`ped into a value
 *                                       or a thrown VaultError with its code.
 * Knows nothing of Comlink or of what the methods do.
 */
import { VAULT_METHODS, type RemoteVault, type VaultContract, type VaultMethod } from './contract';
import { toResult, unwrap } from './result';

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

export function serveVault(impl: VaultContract): RemoteVault {
  const served: Partial<Record<VaultMethod, AnyMethod>> = Object.create(null);
  for (const m of VAULT_METHODS) {
    const method = impl[m] as AnyMethod;
    served[m] = (...args) => toResult(() => method.apply(impl, args));
  }
  return Object.freeze(served) as unknown as RemoteVault;
}

export function callVault(remote: RemoteVault): VaultContract {
  const called: Partial<Record<VaultMethod, AnyMethod>> = {};
  for (const m of VAULT_METHODS) {
    const method = remote[m] as unknown as (...args: unknown[]) => Promise<Parameters<typeof unwrap>[0]>;
    called[m] = async (...args) => unwrap(await method(...args));
  }
  return Object.freeze(called) as unknown as VaultContract;
}

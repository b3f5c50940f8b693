/**
 * The account record and the sealed identity key pair (meta store). Identity bytes are sealed
 * before any transaction opens; decode verifies the IKd signature. A lost vault (P33) has no
 * usable identity. Knows nothing of the host.
 */
import { decodeIdentityKeyPair, encodeIdentityKeyPair, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import { Meta, type AccountRecord, type Sealed, type Tx, type Vault } from './schema';
import { seal, unseal } from './seal';

export async function getAccount(vault: Vault): Promise<AccountRecord | undefined> {
  return (await vault.db.get('meta', Meta.account)) as AccountRecord | undefined;
}

export async function putAccount(tx: Tx, account: AccountRecord): Promise<void> {
  await tx.objectStore('meta').put(account, Meta.account);
}

export function sealIdentity(vault: Vault, identity: IdentityKeyPair): Promise<Sealed> {
  return seal(vault.key, encodeIdentityKeyPair(identity));
}

export async function putIdentity(tx: Tx, sealed: Sealed): Promise<void> {
  await tx.objectStore('meta').put(sealed, Meta.identity);
}

export async function getIdentity(vault: Vault): Promise<IdentityKeyPair | undefined> {
  if (vault.lost) return undefined;
  const sealed = (await vault.db.get('meta', Meta.identity)) as Sealed | undefined;
  return sealed ? decodeIdentityKeyPair(await unseal(vault.key, sealed)) : undefined;
}

const DEVICE_KEY = 'device';

/** DESIGN.md §7: the device secret a restored browser registered with the host (sealed, P32). */
export function sealDevice(vault: Vault, device: Uint8Array): Promise<Sealed> {
  return seal(vault.key, device);
}

export async function putDevice(tx: Tx, sealed: Sealed): Promise<void> {
  await tx.objectStore('meta').put(sealed, DEVICE_KEY);
}

export async function getDevice(vault: Vault): Promise<Uint8Array | undefined> {
  if (vault.lost) return undefined;
  const sealed = (await vault.db.get('meta', DEVICE_KEY)) as Sealed | undefined;
  return sealed ? unseal(vault.key, sealed) : undefined;
}

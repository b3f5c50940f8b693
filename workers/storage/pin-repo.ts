/**
 * PIN recovery state on this device (DESIGN.md §7, §8): the master secret that seals the account
 * record (and authorises realm changes), the local reminder verifier and the reminder schedule.
 * One meta row, sealed as a whole under the vault's non-extractable key (P32); absent when
 * recovery is off. Knows nothing of realms or the host.
 */
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import type { Sealed, Tx, Vault } from './schema';
import { seal, unseal } from './seal';

const KEY = 'pin';

export interface PinState {
  secret: Uint8Array;
  registeredAt: number;
  /** Random salt input for the local reminder verifier (never sent anywhere). */
  localSalt: Uint8Array;
  /** SHA-256 of the locally stretched PIN: lets the reminder check a PIN without a realm guess. */
  verifier: Uint8Array;
  /** Index into the reminder intervals (pin-reminder.ts). */
  level: number;
  nextReminderAt: number;
  /** Profile key carried in the account record (reserved for profiles). */
  profileKey: Uint8Array;
}

interface Stored {
  secret: string;
  registeredAt: number;
  localSalt: string;
  verifier: string;
  level: number;
  nextReminderAt: number;
  profileKey: string;
}

export async function sealPinState(vault: Vault, s: PinState): Promise<Sealed> {
  const stored: Stored = { ...s, secret: toHex(s.secret), localSalt: toHex(s.localSalt), verifier: toHex(s.verifier), profileKey: toHex(s.profileKey) };
  return seal(vault.key, new TextEncoder().encode(JSON.stringify(stored)));
}

export async function putPinState(tx: Tx, sealed: Sealed): Promise<void> {
  await tx.objectStore('meta').put(sealed, KEY);
}

export async function deletePinState(tx: Tx): Promise<void> {
  await tx.objectStore('meta').delete(KEY);
}

export async function getPinState(vault: Vault): Promise<PinState | undefined> {
  if (vault.lost) return undefined;
  const sealed = (await vault.db.get('meta', KEY)) as Sealed | undefined;
  if (!sealed) return undefined;
  const s = JSON.parse(new TextDecoder().decode(await unseal(vault.key, sealed))) as Stored;
  return { ...s, secret: fromHex(s.secret), localSalt: fromHex(s.localSalt), verifier: fromHex(s.verifier), profileKey: fromHex(s.profileKey) };
}

const PREVIOUS_KEY = 'pinPrevious';

/**
 * After recovery is turned off, realms keep a tombstone that only the old master secret can
 * replace; it is kept (sealed) so recovery can be turned on again from this browser.
 */
export async function sealPreviousSecret(vault: Vault, secret: Uint8Array): Promise<Sealed> {
  return seal(vault.key, secret);
}

export async function putPreviousSecret(tx: Tx, sealed: Sealed): Promise<void> {
  await tx.objectStore('meta').put(sealed, PREVIOUS_KEY);
}

export async function getPreviousSecret(vault: Vault): Promise<Uint8Array | undefined> {
  if (vault.lost) return undefined;
  const sealed = (await vault.db.get('meta', PREVIOUS_KEY)) as Sealed | undefined;
  return sealed ? unseal(vault.key, sealed) : undefined;
}

/**
 * PIN recovery state on this device (DESIGN.md §7, §8; SECURITY.md P37): the keys derived from
 * the master secret that this browser needs (record key, access key, realm auth keys, the takeover
 * PUBLIC key), never the master secret itself; the local reminder verifier (only for secrets that
 * resist an offline search); and the reminder schedule. One meta row, sealed as a whole under the
 * vault's non-extractable key (P32); absent when recovery is off. Knows nothing of realms or the host.
 *
 * Vaults written before P37 hold the master secret itself (`legacySecret`); the engine replaces
 * such a row with derived keys the next time it reads it.
 */
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import type { Sealed, Tx, Vault } from './schema';
import { seal, unseal } from './seal';

const KEY = 'pin';

export interface PinKeys {
  recordKey: Uint8Array;
  accessKey: Uint8Array;
  realmAuthKeys: Uint8Array[];
  takeoverPublicKey: Uint8Array;
}

export interface PinState {
  keys: PinKeys;
  /** 'pin' (short, only with independent realms), 'passphrase' or 'recoveryKey'. */
  kind: 'pin' | 'passphrase' | 'recoveryKey';
  registeredAt: number;
  /** Random salt input for the local reminder verifier (never sent anywhere). */
  localSalt?: Uint8Array;
  /**
   * SHA-256 of the locally stretched secret: lets the reminder check it without a realm guess.
   * Absent for a short PIN, which it would expose to an offline search on a stolen device.
   */
  verifier?: Uint8Array;
  /** Index into the reminder intervals (pin-reminder.ts). */
  level: number;
  nextReminderAt: number;
  /** Profile key carried in the account record (reserved for profiles). */
  profileKey: Uint8Array;
}

/** A row from before P37: the master secret itself. */
export interface LegacyPinState {
  legacySecret: Uint8Array;
  registeredAt: number;
  level: number;
  nextReminderAt: number;
  profileKey: Uint8Array;
}

interface Stored {
  secret?: string;
  keys?: { recordKey: string; accessKey: string; realmAuthKeys: string[]; takeoverPublicKey: string };
  kind?: PinState['kind'];
  registeredAt: number;
  localSalt?: string;
  verifier?: string;
  level: number;
  nextReminderAt: number;
  profileKey: string;
}

export async function sealPinState(vault: Vault, s: PinState): Promise<Sealed> {
  const stored: Stored = {
    keys: {
      recordKey: toHex(s.keys.recordKey),
      accessKey: toHex(s.keys.accessKey),
      realmAuthKeys: s.keys.realmAuthKeys.map(toHex),
      takeoverPublicKey: toHex(s.keys.takeoverPublicKey)
    },
    kind: s.kind,
    registeredAt: s.registeredAt,
    ...(s.localSalt ? { localSalt: toHex(s.localSalt) } : {}),
    ...(s.verifier ? { verifier: toHex(s.verifier) } : {}),
    level: s.level,
    nextReminderAt: s.nextReminderAt,
    profileKey: toHex(s.profileKey)
  };
  return seal(vault.key, new TextEncoder().encode(JSON.stringify(stored)));
}

export async function putPinState(tx: Tx, sealed: Sealed): Promise<void> {
  await tx.objectStore('meta').put(sealed, KEY);
}

export async function deletePinState(tx: Tx): Promise<void> {
  await tx.objectStore('meta').delete(KEY);
}

export async function getPinState(vault: Vault): Promise<PinState | LegacyPinState | undefined> {
  if (vault.lost) return undefined;
  const sealed = (await vault.db.get('meta', KEY)) as Sealed | undefined;
  if (!sealed) return undefined;
  const s = JSON.parse(new TextDecoder().decode(await unseal(vault.key, sealed))) as Stored;
  const common = { registeredAt: s.registeredAt, level: s.level, nextReminderAt: s.nextReminderAt, profileKey: fromHex(s.profileKey) };
  if (!s.keys) return { ...common, legacySecret: fromHex(s.secret ?? '') };
  return {
    ...common,
    keys: {
      recordKey: fromHex(s.keys.recordKey),
      accessKey: fromHex(s.keys.accessKey),
      realmAuthKeys: s.keys.realmAuthKeys.map(fromHex),
      takeoverPublicKey: fromHex(s.keys.takeoverPublicKey)
    },
    kind: s.kind ?? 'pin',
    ...(s.localSalt ? { localSalt: fromHex(s.localSalt) } : {}),
    ...(s.verifier ? { verifier: fromHex(s.verifier) } : {})
  };
}

const PREVIOUS_KEY = 'pinPrevious';
const PREVIOUS_AUTH_KEY = 'pinPreviousAuth';

/**
 * After recovery is turned off, realms keep a tombstone that only the old realm auth keys can
 * replace; they are kept (sealed) so recovery can be turned on again from this browser.
 */
export async function sealPreviousAuthKeys(vault: Vault, keys: readonly Uint8Array[]): Promise<Sealed> {
  return seal(vault.key, new TextEncoder().encode(JSON.stringify(keys.map(toHex))));
}

export async function putPreviousAuthKeys(tx: Tx, sealed: Sealed): Promise<void> {
  await tx.objectStore('meta').put(sealed, PREVIOUS_AUTH_KEY);
  // A pre-P37 vault kept the old master secret itself here: gone for good.
  await tx.objectStore('meta').delete(PREVIOUS_KEY);
}

export async function getPreviousAuthKeys(vault: Vault): Promise<Uint8Array[] | undefined> {
  if (vault.lost) return undefined;
  const sealed = (await vault.db.get('meta', PREVIOUS_AUTH_KEY)) as Sealed | undefined;
  if (!sealed) return undefined;
  return (JSON.parse(new TextDecoder().decode(await unseal(vault.key, sealed))) as string[]).map(fromHex);
}

/** A pre-P37 vault's old master secret (for migration only). */
export async function getLegacyPreviousSecret(vault: Vault): Promise<Uint8Array | undefined> {
  if (vault.lost) return undefined;
  const sealed = (await vault.db.get('meta', PREVIOUS_KEY)) as Sealed | undefined;
  return sealed ? unseal(vault.key, sealed) : undefined;
}

/**
 * The settings half of the account record (DESIGN.md §7; SECURITY.md P26, P41, P42, P29): the
 * user's privacy choices as the record's string map, and back. Keys are stable names, values
 * short strings; a key this version does not know is ignored on restore (a newer app's setting),
 * and a value it cannot read keeps the default, so an odd record never blocks a restore.
 * Per-chat flags (pin, mute, archive) ride on each contact instead (account-record-codec.ts).
 * Knows nothing of sealing or PINs.
 */
import type { PrivacySettings } from '../../src/lib/vault/views';
import type { Tx } from '../storage/schema';
import type { EngineContext } from './context';
import { privacySettings, putPrivacySettings } from './privacy-settings';
import { putSealedFromAnyone } from './sealed-access';

export const SettingKey = {
  callsOnlyFromContacts: 'privacy.callsOnlyFromContacts',
  sealedFromAnyone: 'privacy.sealedFromAnyone',
  relayCalls: 'privacy.relayCalls',
  notifications: 'notifications.mode',
  typingIndicators: 'privacy.typingIndicators',
  readReceipts: 'privacy.readReceipts'
} as const;

const flag = (on: boolean | undefined): string => (on ? '1' : '0');

export async function collectSettings(ctx: EngineContext): Promise<Record<string, string>> {
  const s = await privacySettings(ctx);
  return {
    [SettingKey.callsOnlyFromContacts]: flag(s.callsOnlyFromContacts),
    [SettingKey.sealedFromAnyone]: flag(s.sealedFromAnyone),
    [SettingKey.relayCalls]: flag(s.relayCalls),
    [SettingKey.notifications]: s.notifications ?? 'off',
    [SettingKey.typingIndicators]: flag(s.typingIndicators),
    [SettingKey.readReceipts]: flag(s.readReceipts)
  };
}

/** What a record's settings say; absent or unreadable entries stay at their defaults. */
export function settingsFromRecord(settings: Readonly<Record<string, string>>): PrivacySettings {
  const on = (k: string): boolean => settings[k] === '1';
  // On by default (as Signal): a record from before these settings existed leaves them on.
  const onUnlessOff = (k: string): boolean => settings[k] !== '0';
  const mode = settings[SettingKey.notifications];
  return {
    callsOnlyFromContacts: on(SettingKey.callsOnlyFromContacts),
    sealedFromAnyone: on(SettingKey.sealedFromAnyone),
    relayCalls: on(SettingKey.relayCalls),
    notifications: mode === 'name' || mode === 'private' ? mode : 'off',
    typingIndicators: onUnlessOff(SettingKey.typingIndicators),
    readReceipts: onUnlessOff(SettingKey.readReceipts)
  };
}

/** Inside the restore's transaction; "sealed from anyone" reaches the host on the first connect. */
export async function applySettings(tx: Tx, settings: Readonly<Record<string, string>>): Promise<void> {
  const s = settingsFromRecord(settings);
  await putPrivacySettings(tx, s);
  await putSealedFromAnyone(tx, s.sealedFromAnyone === true);
}

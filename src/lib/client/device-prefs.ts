/**
 * Device preferences the page keeps in localStorage (P29 "relay calls"; what a notification
 * shows) and their copy in the vault's privacy settings, which the encrypted account record
 * carries (DESIGN.md §7): each change is mirrored to the vault, and after a PIN restore the
 * vault's copy is written back here, so a new browser behaves as the old one did. Notification
 * permission itself is the browser's and is asked again. Nothing secret; no key material.
 */
import type { VaultContract } from '../vault/contract';
import { setNotifyMode } from './attention/notify.svelte';
import { setRelayOnly } from './calls/settings';

type Prefs = { relayCalls?: boolean; notifications?: 'off' | 'name' | 'private' };

/** Best effort: the preference is already in force on this device either way. */
export function mirrorPrefs(vault: Pick<VaultContract, 'setPrivacySettings'>, prefs: Prefs): void {
  vault.setPrivacySettings(prefs).catch(() => undefined);
}

/** After a restore: the record's preferences become this browser's. */
export async function applyRestoredPrefs(vault: Pick<VaultContract, 'privacySettings'>): Promise<void> {
  try {
    const s = await vault.privacySettings();
    setRelayOnly(s.relayCalls === true);
    if (s.notifications) setNotifyMode(s.notifications);
  } catch {
    // Defaults stay: the user can set them again in Settings.
  }
}

/**
 * The privacy settings (README "Message requests", "Typing indicators", "Read receipts"): calls
 * only from contacts (P42), typing indicators and read receipts (both on by default, as Signal).
 * One sealed row in the vault's meta store (P32); an unknown or missing field takes its default, so
 * a row written before a setting existed reads as that setting's default. Knows nothing of sending.
 */
import { openJson, sealJson } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import type { PrivacySettings } from '../../src/lib/vault/views';

const SETTINGS_KEY = 'privacySettings';

const DEFAULTS: PrivacySettings = { callsOnlyFromContacts: false, typingIndicators: true, readReceipts: true };

function settingsOf(stored: Partial<PrivacySettings>): PrivacySettings {
  return {
    callsOnlyFromContacts: stored.callsOnlyFromContacts === true,
    typingIndicators: stored.typingIndicators !== false,
    readReceipts: stored.readReceipts !== false
  };
}

export async function privacySettings(ctx: EngineContext): Promise<PrivacySettings> {
  const sealed = (await ctx.vault.db.get('meta', SETTINGS_KEY)) as Sealed | undefined;
  return sealed ? settingsOf(openJson<Partial<PrivacySettings>>(ctx.vault.db, 'meta', SETTINGS_KEY, sealed)) : DEFAULTS;
}

/** The same, read inside a transaction (receipts decide in the transaction that queues them). */
export async function txPrivacySettings(tx: Tx): Promise<PrivacySettings> {
  const sealed = (await tx.objectStore('meta').get(SETTINGS_KEY)) as Sealed | undefined;
  return sealed ? settingsOf(openJson<Partial<PrivacySettings>>(tx, 'meta', SETTINGS_KEY, sealed)) : DEFAULTS;
}

/** Changes the settings named in `s`; the others keep their value. */
export async function setPrivacySettings(ctx: EngineContext, s: Partial<PrivacySettings>): Promise<PrivacySettings> {
  return commit(ctx.vault, async (tx) => {
    const next = settingsOf({ ...(await txPrivacySettings(tx)), ...s });
    await tx.objectStore('meta').put(sealJson(tx, 'meta', SETTINGS_KEY, next), SETTINGS_KEY);
    return next;
  });
}

/**
 * The user's privacy choices (SECURITY.md P41, P42, P29; README "Message requests", "Typing
 * indicators", "Read receipts") in one sealed meta row (P32), so the account record can carry them
 * (account-settings.ts) and a PIN restore brings them back:
 *   - callsOnlyFromContacts: calls ring only from people who hold our profile key (P42);
 *   - typingIndicators and readReceipts: both on by default, as Signal;
 *   - sealedFromAnyone: the host admits sealed mail without a delivery token (P41); stored by
 *     sealed-access.ts, which publishes it to the host, and read through here;
 *   - relayCalls and notifications: device preferences the page keeps in localStorage (P29 relay
 *     calls; what a notification shows), mirrored here only so that a restore can give them back.
 * An unknown or missing field takes its default, so a row written before a setting existed reads
 * as that setting's default. Knows nothing of envelopes or the UI.
 */
import type { PrivacySettings } from '../../src/lib/vault/views';
import { openJson, sealJson } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { sealedFromAnyone, setSealedFromAnyone } from './sealed-access';

export const PRIVACY_META_KEY = 'privacySettings';

const NOTIFY_MODES = ['off', 'name', 'private'] as const;
type Stored = Required<Omit<PrivacySettings, 'sealedFromAnyone'>>;

const DEFAULTS: Stored = { callsOnlyFromContacts: false, typingIndicators: true, readReceipts: true, relayCalls: false, notifications: 'off' };

/** Only known fields of the right type survive (a row from another version, a bad argument). */
function clean(s: Partial<PrivacySettings>, base: Stored): Stored {
  const flag = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
  return {
    callsOnlyFromContacts: flag(s.callsOnlyFromContacts, base.callsOnlyFromContacts),
    typingIndicators: flag(s.typingIndicators, base.typingIndicators),
    readReceipts: flag(s.readReceipts, base.readReceipts),
    relayCalls: flag(s.relayCalls, base.relayCalls),
    notifications: NOTIFY_MODES.includes(s.notifications as never) ? s.notifications! : base.notifications
  };
}

function opened(db: Parameters<typeof openJson>[0], sealed: Sealed | undefined): Stored {
  return sealed ? clean(openJson<Partial<PrivacySettings>>(db, 'meta', PRIVACY_META_KEY, sealed), DEFAULTS) : DEFAULTS;
}

async function stored(ctx: EngineContext): Promise<Stored> {
  return opened(ctx.vault.db, (await ctx.vault.db.get('meta', PRIVACY_META_KEY)) as Sealed | undefined);
}

export async function privacySettings(ctx: EngineContext): Promise<PrivacySettings> {
  return { ...(await stored(ctx)), sealedFromAnyone: await sealedFromAnyone(ctx) };
}

/** The stored settings read inside a transaction (receipts decide in the transaction that queues them). */
export async function txPrivacySettings(tx: Tx): Promise<Stored> {
  return opened(tx, (await tx.objectStore('meta').get(PRIVACY_META_KEY)) as Sealed | undefined);
}

/** Writes the row inside a transaction (the restore's own). */
export async function putPrivacySettings(tx: Tx, s: Partial<PrivacySettings>): Promise<void> {
  await tx.objectStore('meta').put(sealJson(tx, 'meta', PRIVACY_META_KEY, clean(s, DEFAULTS)), PRIVACY_META_KEY);
}

/** Fields left out keep their value. Changing "sealed from anyone" tells the host (offline: on connect). */
export async function setPrivacySettings(ctx: EngineContext, s: Partial<PrivacySettings>): Promise<PrivacySettings> {
  await commit(ctx.vault, async (tx) => putPrivacySettings(tx, clean(s, await txPrivacySettings(tx))));
  if (typeof s.sealedFromAnyone === 'boolean' && s.sealedFromAnyone !== (await sealedFromAnyone(ctx))) {
    await setSealedFromAnyone(ctx, s.sealedFromAnyone).catch(() => undefined);
  }
  // The account record holds these settings: its debounced upload listens for this event.
  ctx.events.emit({ type: 'chats' });
  return privacySettings(ctx);
}

/**
 * The user's privacy choices (SECURITY.md P41, P42, P29) in one sealed meta row (P32), so the
 * account record can carry them (account-settings.ts) and a PIN restore brings them back:
 *   - callsOnlyFromContacts: calls ring only from people who hold our profile key (P42);
 *   - sealedFromAnyone: the host admits sealed mail without a delivery token (P41); stored by
 *     sealed-access.ts, which publishes it to the host, and read through here;
 *   - relayCalls and notifications: device preferences the page keeps in localStorage (P29 relay
 *     calls; what a notification shows), mirrored here only so that a restore can give them back.
 * Knows nothing of envelopes or the UI.
 */
import type { PrivacySettings } from '../../src/lib/vault/views';
import { openJson, sealJson } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { sealedFromAnyone, setSealedFromAnyone } from './sealed-access';

export const PRIVACY_META_KEY = 'privacySettings';

const NOTIFY_MODES = ['off', 'name', 'private'] as const;
type Stored = Omit<PrivacySettings, 'sealedFromAnyone'>;

const DEFAULTS: Stored = { callsOnlyFromContacts: false, relayCalls: false, notifications: 'off' };

/** Only known fields of the right type survive (a row from another version, a bad argument). */
function clean(s: Partial<PrivacySettings>, base: Stored): Stored {
  return {
    callsOnlyFromContacts: typeof s.callsOnlyFromContacts === 'boolean' ? s.callsOnlyFromContacts : base.callsOnlyFromContacts,
    relayCalls: typeof s.relayCalls === 'boolean' ? s.relayCalls : base.relayCalls,
    notifications: NOTIFY_MODES.includes(s.notifications as never) ? s.notifications! : base.notifications
  };
}

async function stored(ctx: EngineContext): Promise<Stored> {
  const sealed = (await ctx.vault.db.get('meta', PRIVACY_META_KEY)) as Sealed | undefined;
  return sealed ? clean(openJson<Partial<PrivacySettings>>(ctx.vault.db, 'meta', PRIVACY_META_KEY, sealed), DEFAULTS) : DEFAULTS;
}

export async function privacySettings(ctx: EngineContext): Promise<PrivacySettings> {
  return { ...(await stored(ctx)), sealedFromAnyone: await sealedFromAnyone(ctx) };
}

/** Writes the row inside a transaction (the restore's own). */
export async function putPrivacySettings(tx: Tx, s: Partial<PrivacySettings>): Promise<void> {
  await tx.objectStore('meta').put(sealJson(tx, 'meta', PRIVACY_META_KEY, clean(s, DEFAULTS)), PRIVACY_META_KEY);
}

/** Fields left out keep their value. Changing "sealed from anyone" tells the host (offline: on connect). */
export async function setPrivacySettings(ctx: EngineContext, s: Partial<PrivacySettings>): Promise<PrivacySettings> {
  const next = clean(s, await stored(ctx));
  await commit(ctx.vault, (tx) => putPrivacySettings(tx, next));
  if (typeof s.sealedFromAnyone === 'boolean' && s.sealedFromAnyone !== (await sealedFromAnyone(ctx))) {
    await setSealedFromAnyone(ctx, s.sealedFromAnyone).catch(() => undefined);
  }
  // The account record holds these settings: its debounced upload listens for this event.
  ctx.events.emit({ type: 'chats' });
  return privacySettings(ctx);
}

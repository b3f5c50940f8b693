/**
 * Keeping the host's prekeys usable (DESIGN.md §4 "Prekeys": replenish one-time
 * prekeys, rotate the signed prekey): runs when the connection comes up.
 *
 *  - one-time X25519 and one-time ML-KEM pools are refilled when the host holds fewer than LOW;
 *  - the signed prekey is replaced after SIGNED_PREKEY_ROTATE_MS, and the last-resort ML-KEM
 *    prekey with it (SECURITY.md P40 lockouts: bundles past a target's one-time budget carry the
 *    last-resort key, so it must not live forever); the host swaps it in one transaction. Old
 *    signed and last-resort prekeys are kept until SIGNED_PREKEY_KEEP_MS so prekey messages still
 *    waiting in a mailbox (host retention is 30 days) can be answered, then deleted.
 *
 * Private halves are committed before public halves are published, so a bundle served from new
 * keys always finds its private key here. Knows nothing of sessions.
 *
 * The counts come from the host, and the upkeep runs by itself on every reconnect, so a host that
 * reports empty pools and drops the connection again and again must not grow the vault or burn
 * the CPU (P9, as P11 bounds skipped keys): unused one-time keys are kept only up to KEEP_FACTOR
 * times the target, the oldest deleted first (an honest host serves the oldest first and holds at
 * most the target, so those are long gone from it: a handshake that names one fails as any
 * unknown prekey does), and keys are made at most once per REFILL_MIN_INTERVAL_MS of our clock.
 */
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  oneTimePreKeyPublic,
  signedPreKeyPublic
} from '../../src/lib/crypto/prekeys';
import { getAccount, putAccount } from '../storage/account-repo';
import { listPreKeys, putPreKeys, sealPreKeys, trimOneTimePreKeys } from '../storage/prekey-repo';
import { commit } from '../storage/vault';
import { hostAuth, KEM_TARGET, ONE_TIME_TARGET } from './account';
import { requireMe, type EngineContext } from './context';
import type { PreKeyUpload } from './transport';
import { engineFail } from './errors';
import { minInterval } from './min-interval';

export const ONE_TIME_LOW = 20;
export const KEM_LOW = 8;
const DAY_MS = 24 * 60 * 60 * 1000;
export const SIGNED_PREKEY_ROTATE_MS = 7 * DAY_MS;
/** Host retention (30 days) plus a rotation period. */
export const SIGNED_PREKEY_KEEP_MS = 37 * DAY_MS;
/** Unused one-time prekeys kept, as a multiple of what one refill tops the host up to. */
export const KEEP_FACTOR = 8;
export const ONE_TIME_KEEP = KEEP_FACTOR * ONE_TIME_TARGET;
export const KEM_KEEP = KEEP_FACTOR * KEM_TARGET;
/** Least time between two refills (our clock). */
export const REFILL_MIN_INTERVAL_MS = 60_000;
const mayRefill = minInterval(REFILL_MIN_INTERVAL_MS);

function newestOf<T extends { id: number }>(records: T[]): T | undefined {
  return records.reduce<T | undefined>((a, b) => (!a || b.id > a.id ? b : a), undefined);
}

/** Returns what was uploaded, or undefined if the pools were healthy and the signed prekey fresh. */
export async function maintainPreKeys(ctx: EngineContext): Promise<PreKeyUpload | undefined> {
  const me = requireMe(ctx);
  const { deps } = ctx;
  const now = deps.now();
  const counts = await ctx.transport.preKeyCounts(hostAuth(me));
  const signed = await listPreKeys(ctx.vault, 'signed');
  const newest = newestOf(signed);
  const lastResorts = (await listPreKeys(ctx.vault, 'kem')).filter((k) => k.lastResort);
  const newestLastResort = newestOf(lastResorts);
  const rotate = !newest || now - newest.createdAt >= SIGNED_PREKEY_ROTATE_MS;
  if (counts.oneTime >= ONE_TIME_LOW && counts.kem >= KEM_LOW && !rotate) return undefined;
  if (!mayRefill(ctx)) return undefined;

  const account = await getAccount(ctx.vault);
  if (!account) engineFail('NoAccount', 'no account record');
  const oneTime = counts.oneTime < ONE_TIME_LOW ? generateOneTimePreKeys(account.nextOneTimeId, ONE_TIME_TARGET - counts.oneTime, deps) : [];
  const kem = [];
  if (counts.kem < KEM_LOW) {
    for (let i = 0; i < KEM_TARGET - counts.kem; i++) kem.push(generateKemPreKey(me.identity, account.nextKemId + i, false, deps));
  }
  const newSigned = rotate ? generateSignedPreKey(me.identity, account.nextSignedId, deps) : undefined;
  // The last-resort KEM key rotates with the signed prekey, under the next free KEM id.
  if (rotate) kem.push(generateKemPreKey(me.identity, account.nextKemId + kem.length, true, deps));
  const records = sealPreKeys(ctx.vault, newSigned ? { signed: newSigned, oneTime, kem } : { oneTime, kem }, now);
  // An old signed or last-resort prekey goes once its successor has been out longer than the
  // mailbox keeps envelopes.
  const expired = [
    ...signed.filter((s) => s.id !== newest?.id && now - s.createdAt >= SIGNED_PREKEY_KEEP_MS),
    ...lastResorts.filter((k) => k.id !== newestLastResort?.id && now - k.createdAt >= SIGNED_PREKEY_KEEP_MS)
  ];
  await commit(ctx.vault, async (tx) => {
    await putPreKeys(tx, records);
    for (const s of expired) await tx.objectStore('prekeys').delete(s.key);
    await trimOneTimePreKeys(tx, 'oneTime', ONE_TIME_KEEP);
    await trimOneTimePreKeys(tx, 'kem', KEM_KEEP);
    await putAccount(tx, {
      ...account,
      nextOneTimeId: account.nextOneTimeId + oneTime.length,
      nextKemId: account.nextKemId + kem.length,
      nextSignedId: account.nextSignedId + (newSigned ? 1 : 0)
    });
  });
  const upload: PreKeyUpload = { oneTimePreKeys: oneTime.map(oneTimePreKeyPublic), kemPreKeys: kem.map(kemPreKeyPublic) };
  if (newSigned) upload.signedPreKey = signedPreKeyPublic(newSigned);
  await ctx.transport.uploadPreKeys(hostAuth(me), upload);
  return upload;
}

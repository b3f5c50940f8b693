/**
 * What the UI is told when a recovery secret could not be used (SECURITY.md P38): one union for
 * restore, PIN change, repair and the online reminder, turned from the recovery driver's outcome.
 * "No attempt was used" may be said only when `attemptUsed` is 'no'; a tampered answer names the
 * realm and is never reported as a wrong PIN.
 */
import type { RecoverOutcome } from '../recovery/recovery';
import type { RecoveryProblem } from '../../../src/lib/vault/views';
import type { RealmEndpoint } from '../recovery/realm-client';

export function realmName(r: RealmEndpoint): string {
  if (r.name) return r.name;
  try {
    return new URL(r.url).host;
  } catch {
    return r.url;
  }
}

/** The problem an unsuccessful outcome describes (undefined for success). */
export function problemOf(o: RecoverOutcome, realms: readonly RealmEndpoint[]): RecoveryProblem | undefined {
  if ('ok' in o) return undefined;
  if ('wrongPin' in o) return { status: 'wrongPin', remaining: o.remaining };
  if ('destroyed' in o) return { status: 'destroyed' };
  if ('notRegistered' in o) return { status: 'notRegistered' };
  if ('tooSoon' in o) return { status: 'tooSoon', retryAfterMs: o.retryAfterMs, attemptUsed: o.attemptUsed };
  if ('tampered' in o) return { status: 'tampered', realms: o.realms.map((i) => (realms[i] ? realmName(realms[i]) : `realm ${i + 1}`)), attemptUsed: o.attemptUsed, remaining: o.remaining };
  return { status: 'unavailable', attemptUsed: o.attemptUsed };
}

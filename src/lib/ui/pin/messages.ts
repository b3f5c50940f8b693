/**
 * Words for PIN-recovery outcomes (SECURITY.md P38): every failure says why, a tampered realm
 * answer is named as tampering (never "wrong PIN"), and "no attempt was used" is said only when
 * the vault reports that no realm evaluated. Pure; no Svelte.
 */
import type { RecoveryProblem } from '$lib/vault/views';
import { VaultError } from '$lib/vault/result';

/** "in 2 minutes", "in 1 hour 5 minutes". */
export function waitText(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes < 60) return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h} ${h === 1 ? 'hour' : 'hours'}${m ? ` ${m} ${m === 1 ? 'minute' : 'minutes'}` : ''}`;
}

function attemptText(used: 'no' | 'maybe' | 'yes', remaining?: number): string {
  if (used === 'no') return 'No attempt was used.';
  const left = remaining === undefined ? '' : ` ${remaining} ${remaining === 1 ? 'attempt' : 'attempts'} left.`;
  return used === 'yes' ? `This counted as one attempt.${left}` : `This may have counted as one attempt.${left}`;
}

/** One sentence (or two) for the user; `noun` is what they typed ("PIN", "passphrase", ...). */
export function problemText(p: RecoveryProblem, noun = 'PIN'): string {
  switch (p.status) {
    case 'wrongPin':
      return `Wrong ${noun}. ${p.remaining} ${p.remaining === 1 ? 'attempt' : 'attempts'} left before the backup is deleted.`;
    case 'destroyed':
      return 'Too many wrong attempts were made (or recovery was turned off), so the backup has been deleted for good.';
    case 'notRegistered':
      return 'No recovery backup exists for this account.';
    case 'tooSoon':
      return `Too many wrong attempts: the recovery service asks you to wait ${waitText(p.retryAfterMs)} before the next one. ${attemptText(p.attemptUsed)}`;
    case 'tampered':
      return `The answer from recovery service ${p.realms.join(', ')} failed its integrity check, so your ${noun} could not be checked. This is not a wrong ${noun}: someone may be tampering with the service. ${attemptText(p.attemptUsed, p.remaining)}`;
    case 'unavailable':
      return `The recovery service is not reachable right now. ${attemptText(p.attemptUsed)} Try again later.`;
  }
}

/** The reason a vault call failed, as the worker stated it (codes stay out of the sentence). */
export function failureText(e: unknown, what: string): string {
  if (!(e instanceof VaultError)) return `${what} failed. Try again.`;
  const reason = e.message.replace(/^[A-Za-z]+: /, '');
  if (e.code === 'Unavailable') return `${what} failed: the server or the recovery service is not reachable. Try again.`;
  return `${what} failed: ${reason}${/[.!?]$/.test(reason) ? '' : '.'}`;
}

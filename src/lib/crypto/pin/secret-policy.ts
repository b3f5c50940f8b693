/**
 * Which recovery secrets the app accepts, and the generated recovery key (SECURITY.md P38,
 * DESIGN.md §9).
 *
 * Everything a realm stores is keyed by the OPRF output (P24), so with t-of-n INDEPENDENT realms a
 * short PIN is safe: testing a guess needs t realms, each counting guesses. With one realm, or
 * realms one operator could control together (realms.ts `realmIndependence`), that operator holds
 * every OPRF key share and can test guesses offline at one Argon2id each. Then the secret itself
 * must resist an offline search, so only these are accepted:
 *  - a recovery key this module generates: 28 Crockford base32 characters = 140 random bits,
 *    shown in groups of four to write down (typing is forgiving: case, spaces, dashes, O/0, I/L/1);
 *  - a passphrase whose estimated guess count (zxcvbn, run in the vault worker) is at least
 *    10^14: at Argon2id's ~0.16 s per guess that is ~500 000 core-years.
 * A short PIN (`checkPinStrength`'s rules) is accepted only with independent realms.
 *
 * Pure: the estimate comes in as a number, randomness from `deps`.
 */
import type { Deps } from '../deps';
import { checkPinStrength } from './normalize';

export type SecretKind = 'pin' | 'passphrase' | 'recoveryKey';

export type SecretCheck = { ok: true; kind: SecretKind } | { ok: false; reason: string };

/** log10 of the estimated guesses a passphrase must reach when realms are not independent. */
export const MIN_PASSPHRASE_GUESSES_LOG10 = 14;

/** Crockford's base32: no I, L, O or U, so a written key reads back unambiguously. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_KEY_CHARS = 28;
export const RECOVERY_KEY_GROUP = 4;
export const RECOVERY_KEY_BITS = RECOVERY_KEY_CHARS * 5;

/** Why a short PIN is refused here, in words for the user. */
export const WHY_NO_SHORT_PIN =
  'This server runs its own recovery service, so whoever operates it could try every short PIN offline. ' +
  'Use a long passphrase of several unusual words, or a recovery key you write down.';

function group(chars: string): string {
  return chars.match(new RegExp(`.{1,${RECOVERY_KEY_GROUP}}`, 'g'))!.join('-');
}

/** A fresh recovery key, e.g. "7K2M-Q9XD-…" (7 groups of 4). */
export function generateRecoveryKey(deps: Deps): string {
  // 256 is a multiple of 32, so the low 5 bits of a uniform byte are uniform.
  const chars = [...deps.rng(RECOVERY_KEY_CHARS)].map((b) => ALPHABET[b & 31]!).join('');
  return group(chars);
}

/** The canonical form of a typed recovery key, or undefined if `input` is not one. */
export function parseRecoveryKey(input: string): string | undefined {
  const chars = input
    .toUpperCase()
    .replace(/[\s\-\u2010-\u2015]/gu, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (chars.length !== RECOVERY_KEY_CHARS || [...chars].some((c) => !ALPHABET.includes(c))) return undefined;
  return group(chars);
}

/**
 * What gets stretched: a recovery key in its canonical form (however it was typed), anything else
 * as typed (normalizePin then applies). Used the same way at setup and at restore.
 */
export function canonicalRecoverySecret(input: string): string {
  return parseRecoveryKey(input) ?? input;
}

/**
 * The acceptance rule for a new recovery secret. `guessesLog10` is the worker's estimate for the
 * secret as typed; `independent` says whether the pinned realms allow a short PIN.
 */
export function checkRecoverySecret(input: string, opts: { independent: boolean; guessesLog10: number }): SecretCheck {
  if (parseRecoveryKey(input)) return { ok: true, kind: 'recoveryKey' };
  const basic = checkPinStrength(input);
  if (!basic.ok) return basic;
  if (opts.guessesLog10 >= MIN_PASSPHRASE_GUESSES_LOG10) return { ok: true, kind: 'passphrase' };
  if (opts.independent) return { ok: true, kind: 'pin' };
  return { ok: false, reason: `Too easy to guess offline (about 10^${Math.floor(opts.guessesLog10)} guesses, need 10^${MIN_PASSPHRASE_GUESSES_LOG10}). ${WHY_NO_SHORT_PIN}` };
}

/**
 * PIN normalisation and the strength rule (DESIGN.md §7, SECURITY.md P25).
 *
 * The same PIN typed on another keyboard, phone or locale must stretch to the same bytes, or the
 * user is locked out of their own account. Policy, applied in this order:
 *  1. NFKD (Signal's PIN normalisation): compatibility forms such as fullwidth '１２３' become
 *     ASCII, and composed letters decompose the same way on every platform.
 *  2. Every decimal digit of a supported script (Arabic-Indic '٠١٢', Persian, Devanagari, Bengali,
 *     Thai, ...) becomes its ASCII digit. A decimal digit of any other script is refused rather
 *     than silently kept, so two renderings of one PIN can never stretch differently.
 *  3. Leading and trailing whitespace is removed (any Unicode White_Space, including NBSP and the
 *     ideographic space).
 *  4. Internal whitespace: if what remains is only digits and whitespace ("12 34", "1 234"), the
 *     whitespace is removed — digit grouping is visual. Otherwise each internal run of whitespace
 *     becomes one ASCII space, so a passphrase survives a doubled space or an NBSP.
 * Letters keep their case: an alphanumeric PIN is case-sensitive, as users of passwords expect.
 * Control and format characters (e.g. zero-width joiners, bidi marks) are refused: invisible
 * characters would make a PIN impossible to retype.
 */
import { fail } from '../../codec/errors';

/** Code points of the digit zero of each supported script; its digits follow contiguously. */
const DIGIT_ZEROS = [
  0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66, 0x0de6,
  0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0,
  0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10
] as const;

/** Long enough for a passphrase, short enough that Argon2 input stays bounded. */
export const MAX_PIN_LENGTH = 128;
export const MIN_PIN_LENGTH = 4;

function asciiDigit(ch: string): string {
  const cp = ch.codePointAt(0)!;
  for (const zero of DIGIT_ZEROS) {
    if (cp >= zero && cp <= zero + 9) return String.fromCharCode(0x30 + cp - zero);
  }
  fail('InvalidArgument', `PIN contains a decimal digit U+${cp.toString(16).toUpperCase().padStart(4, '0')} of an unsupported script`);
}

/** The canonical form of a PIN (idempotent); throws InvalidArgument for an unusable one. */
export function normalizePin(pin: string): string {
  if (typeof pin !== 'string') fail('InvalidArgument', 'PIN must be a string');
  if (pin.length > 4 * MAX_PIN_LENGTH) fail('InvalidArgument', `PIN of ${pin.length} code units is too long`);
  const digits = pin.normalize('NFKD').replace(/\p{Nd}/gu, (d) => (d >= '0' && d <= '9' ? d : asciiDigit(d)));
  if (/[\p{Cc}\p{Cf}]/u.test(digits.replace(/[\t\n\r\v\f\x85]/g, ' '))) {
    fail('InvalidArgument', 'PIN contains control or invisible formatting characters');
  }
  const trimmed = digits.replace(/^\s+|\s+$/gu, '');
  const out = /^[0-9\s]*$/u.test(trimmed) ? trimmed.replace(/\s+/gu, '') : trimmed.replace(/\s+/gu, ' ');
  if (out.length === 0) fail('InvalidArgument', 'PIN is empty');
  const length = [...out].length;
  if (length > MAX_PIN_LENGTH) fail('InvalidArgument', `PIN of ${length} characters exceeds ${MAX_PIN_LENGTH}`);
  return out;
}

/**
 * Frequent PINs and passwords that the pattern rules below miss (repeats such as 1212 and runs
 * such as 1234 are caught by rule): keypad lines and shapes, years, and leaked-list favourites.
 */
const COMMON_PINS = new Set([
  '1004', '2000', '2580', '0852', '1470', '0741', '1369', '1379', '6969', '1122', '1313', '112233',
  '147258', '159753', '1998', '1999', '2001', '2020', 'password', 'passw0rd', 'qwerty', 'abc123',
  'letmein', 'iloveyou', 'admin', 'welcome', 'monkey', 'dragon'
]);

function isRunBy(chars: readonly number[], step: number): boolean {
  for (let i = 1; i < chars.length; i++) if (chars[i]! - chars[i - 1]! !== step) return false;
  return true;
}

/** A block of 1..3 characters repeated at least twice: 1212, 123123, abab. */
function isShortRepetition(s: string): boolean {
  for (let p = 1; p <= 3 && p < s.length; p++) {
    if (s.length % p === 0 && s === s.slice(0, p).repeat(s.length / p)) return true;
  }
  return false;
}

export type PinStrength = { ok: true } | { ok: false; reason: string };

/** Strength rule for a new PIN (registration only; recovery accepts whatever was registered). */
export function checkPinStrength(pin: string): PinStrength {
  let n: string;
  try {
    n = normalizePin(pin);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message.replace(/^InvalidArgument: /, '') : 'invalid PIN' };
  }
  const chars = [...n];
  if (chars.length < MIN_PIN_LENGTH) return { ok: false, reason: `PIN has ${chars.length} characters, need at least ${MIN_PIN_LENGTH}` };
  const lower = n.toLowerCase();
  if (COMMON_PINS.has(lower)) return { ok: false, reason: 'PIN is one of the most common PINs' };
  if (isShortRepetition(lower)) return { ok: false, reason: 'PIN repeats the same short pattern' };
  const codes = chars.map((c) => c.toLowerCase().codePointAt(0)!);
  const sequential = /^[0-9]+$/.test(n) || /^[a-z]+$/.test(lower);
  if (sequential && (isRunBy(codes, 1) || isRunBy(codes, -1))) {
    return { ok: false, reason: 'PIN is an ascending or descending sequence' };
  }
  return { ok: true };
}

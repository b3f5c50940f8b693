/**
 * Skin tones for the emoji picker (README "Emoji picker"): the default yellow or one of the five
 * Fitzpatrick modifiers (Unicode TR51 §2.4, U+1F3FB..U+1F3FF), applied to every emoji the data
 * marks as taking one (emoji-data.ts `tone`), and the choice kept on this device in localStorage
 * (a preference like the Recent row: nothing goes to the host; "Forget this browser" clears it).
 *
 * A modifier follows the emoji's one Emoji_Modifier_Base code point and replaces the variation
 * selector U+FE0F after it, if any (TR51 §2.4: "☝️" + tone is "☝🏽", a ZWJ sequence keeps its
 * tail: "🧑🏽‍💻"). Pure, apart from the storage passed in.
 */

export type SkinTone = 0 | 1 | 2 | 3 | 4 | 5;

/** The six choices in picker order; `modifier` is '' for the default. Labels are CLDR's. */
export const SKIN_TONES: readonly { readonly tone: SkinTone; readonly label: string; readonly modifier: string }[] = [
  { tone: 0, label: 'Default skin tone', modifier: '' },
  { tone: 1, label: 'Light skin tone', modifier: '\u{1F3FB}' },
  { tone: 2, label: 'Medium-light skin tone', modifier: '\u{1F3FC}' },
  { tone: 3, label: 'Medium skin tone', modifier: '\u{1F3FD}' },
  { tone: 4, label: 'Medium-dark skin tone', modifier: '\u{1F3FE}' },
  { tone: 5, label: 'Dark skin tone', modifier: '\u{1F3FF}' }
];

export const TONE_KEY = 'parley.emojiTone';

const MODIFIER = /[\u{1F3FB}-\u{1F3FF}]/gu;
const BASE = /(\p{Emoji_Modifier_Base})\uFE0F?/u;

/** `emoji` (a base form, as in the data) in `tone`; tone 0 gives it back unchanged. */
export function withTone(emoji: string, tone: SkinTone): string {
  const modifier = SKIN_TONES[tone]?.modifier ?? '';
  return modifier === '' ? emoji : emoji.replace(BASE, `$1${modifier}`);
}

/** The tone `emoji` carries: 0 for none; undefined when it carries more than one modifier. */
export function toneOf(emoji: string): SkinTone | undefined {
  const found = emoji.match(MODIFIER) ?? [];
  if (found.length === 0) return 0;
  if (found.length > 1) return undefined;
  return (found[0]!.codePointAt(0)! - 0x1f3fa) as SkinTone;
}

/** `emoji` with its modifiers taken out (not the base form when the base dropped a U+FE0F: look that up with `withTone` back). */
export function withoutTone(emoji: string): string {
  return emoji.replace(MODIFIER, '');
}

export type ToneStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** The tone kept on this device; anything but "0".."5" reads as the default. */
export function loadTone(storage: ToneStorage | undefined): SkinTone {
  let raw: string | null | undefined;
  try {
    raw = storage?.getItem(TONE_KEY);
  } catch {
    return 0;
  }
  return raw !== null && raw !== undefined && /^[0-5]$/.test(raw) ? (Number(raw) as SkinTone) : 0;
}

/** Keeps `tone`; a storage that refuses only forgets it (the choice still holds until reload). */
export function saveTone(storage: ToneStorage | undefined, tone: SkinTone): void {
  try {
    storage?.setItem(TONE_KEY, String(tone));
  } catch {
    // Quota or private mode: the picker goes on with the tone in memory.
  }
}

/**
 * The emoji the picker offers (README "Emoji picker"): a curated, bundled set of a few hundred,
 * in nine categories, each with its Unicode CLDR short name (its accessible name on screen) and
 * search keywords. Nothing is fetched: the glyphs come from the system's emoji font.
 *
 * Every entry is one grapheme that the message rules accept as a reaction (src/lib/wire/content.ts
 * isOneEmoji) and that enlarges when sent alone (src/lib/ui/message-text.ts isEmojiOnly); the
 * tests hold each entry to both. Pure data and lookups: no DOM, no storage.
 */
import { SMILEYS, PEOPLE } from './table-faces';
import { NATURE, FOOD, ACTIVITIES, TRAVEL } from './table-world';
import { OBJECTS, SYMBOLS, FLAGS } from './table-things';
import { SKIN_TONES, withTone, type SkinTone } from './skin-tone';

export type EmojiCategoryId = 'smileys' | 'people' | 'nature' | 'food' | 'activities' | 'travel' | 'objects' | 'symbols' | 'flags';

export type Emoji = {
  readonly emoji: string;
  /** CLDR short name: what a screen reader says for the emoji. */
  readonly name: string;
  /** Lower-case words search matches: the name's words, then the keywords. */
  readonly words: readonly string[];
  readonly category: EmojiCategoryId;
  /** Takes a skin tone (skin-tone.ts): the table marks it `| tones`. */
  readonly tone: boolean;
};

export type EmojiCategory = { readonly id: EmojiCategoryId; readonly label: string; readonly icon: string; readonly emoji: readonly Emoji[] };

/** `🇩🇪` from `DE`: the two regional indicator symbols (Unicode TR51 §B.1). */
export function flagOf(code: string): string {
  if (!/^[A-Z]{2}$/.test(code)) throw new RangeError(`flag code "${code}" is not two letters A-Z`);
  return String.fromCodePoint(...[...code].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65));
}

/** The words a name or keyword list is searched by: lower case, split at spaces, hyphens and colons. */
export function wordsOf(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[\s\-:,.’']+/u)
    .filter((w) => w.length > 0);
}

/** One table line: `<emoji> <name> | <keywords>[ | tones]`, or `flag <CC> <name> | <keywords>`. */
function parseLine(line: string, category: EmojiCategoryId): Emoji {
  const [head = '', keywords = '', mark = ''] = line.split('|').map((s) => s.trim());
  if (mark !== '' && mark !== 'tones') throw new RangeError(`emoji table line "${line}": third column "${mark}" is not "tones"`);
  const tone = mark === 'tones';
  const flag = /^flag ([A-Z]{2}) (.+)$/u.exec(head);
  if (flag) {
    const code = flag[1]!;
    const name = `flag: ${flag[2]!}`;
    return { emoji: flagOf(code), name, words: [...new Set([...wordsOf(name), code.toLowerCase(), ...wordsOf(keywords)])], category, tone };
  }
  const space = head.indexOf(' ');
  const emoji = head.slice(0, space);
  const name = head.slice(space + 1);
  return { emoji, name, words: [...new Set([...wordsOf(name), ...wordsOf(keywords)])], category, tone };
}

function table(text: string, category: EmojiCategoryId): Emoji[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => parseLine(l, category));
}

export const CATEGORIES: readonly EmojiCategory[] = [
  { id: 'smileys', label: 'Smileys & emotion', icon: '😀', emoji: table(SMILEYS, 'smileys') },
  { id: 'people', label: 'People & body', icon: '👋', emoji: table(PEOPLE, 'people') },
  { id: 'nature', label: 'Animals & nature', icon: '🐶', emoji: table(NATURE, 'nature') },
  { id: 'food', label: 'Food & drink', icon: '🍔', emoji: table(FOOD, 'food') },
  { id: 'activities', label: 'Activities', icon: '⚽', emoji: table(ACTIVITIES, 'activities') },
  { id: 'travel', label: 'Travel & places', icon: '✈️', emoji: table(TRAVEL, 'travel') },
  { id: 'objects', label: 'Objects', icon: '💡', emoji: table(OBJECTS, 'objects') },
  { id: 'symbols', label: 'Symbols', icon: '❤️', emoji: table(SYMBOLS, 'symbols') },
  { id: 'flags', label: 'Flags', icon: '🏁', emoji: table(FLAGS, 'flags') }
];

/** Every emoji, in picker order. */
export const ALL_EMOJI: readonly Emoji[] = CATEGORIES.flatMap((c) => c.emoji);

/** Every form the picker offers, toned ones included, to its entry. */
const BY_EMOJI: ReadonlyMap<string, Emoji> = new Map(ALL_EMOJI.flatMap((e) => (e.tone ? SKIN_TONES.map((t) => [withTone(e.emoji, t.tone), e] as const) : [[e.emoji, e] as const])));

/** The entry for `emoji`, in its base form or (if it takes one) any skin tone; undefined if the picker does not offer it (how stored recents are checked). */
export function emojiEntry(emoji: string): Emoji | undefined {
  return BY_EMOJI.get(emoji);
}

/** How `e` shows in the picker in `tone`: toned if it takes one, as it is otherwise. */
export function glyphOf(e: Emoji, tone: SkinTone): string {
  return e.tone ? withTone(e.emoji, tone) : e.emoji;
}

/**
 * `:shortcode` autocompletion in the composer (README "Emoji picker"): which ":query" the caret
 * ends, the emoji it matches (the picker's search over CLDR names and keywords, emoji-search.ts),
 * and the text with the ":query" replaced by the chosen emoji. Pure: text and caret in, text and
 * caret out; the listbox and keys are the composer's (composer-suggest.ts).
 *
 * A query opens at a ':' that starts the text or follows a space or an opening bracket, and is
 * MIN_QUERY..MAX_QUERY letters, digits, '_', '-' or '+' with at least MIN_QUERY letters: so "12:30",
 * "http://x", ":)" and ":D" never open it. '_' reads as a space (":thumbs_up").
 */
import { glyphOf, type Emoji } from './emoji-data';
import { searchEmoji } from './emoji-search';
import type { SkinTone } from './skin-tone';

/** Letters typed after ':' before the list opens (":) and ":P" stay text). */
export const MIN_QUERY = 2;
/** Longer than any name word worth completing; past it the ':' is taken for text. */
export const MAX_QUERY = 32;
/** Rows the list shows at most. */
export const MAX_SHORTCODE_OPTIONS = 8;

export type ShortcodeQuery = { start: number; query: string };

const QUERY_CHAR = /[\p{L}\p{N}_+-]/u;

/** The ":query" the caret at `caret` ends, if any (`start` is the index of the ':'). */
export function shortcodeQuery(text: string, caret: number): ShortcodeQuery | undefined {
  let i = caret;
  while (i > 0 && caret - i <= MAX_QUERY && QUERY_CHAR.test(text[i - 1]!)) i--;
  if (i === 0 || text[i - 1] !== ':' || caret - i > MAX_QUERY) return undefined;
  const colon = i - 1;
  if (colon > 0 && !/[\s([{]/u.test(text[colon - 1]!)) return undefined;
  const query = text.slice(i, caret).toLowerCase();
  if ((query.match(/\p{L}/gu) ?? []).length < MIN_QUERY) return undefined;
  return { start: colon, query };
}

export type ShortcodeOption = { entry: Emoji; glyph: string };

/** The emoji `query` matches, best first, each in `tone` where it takes one. */
export function shortcodeOptions(query: string, tone: SkinTone, max = MAX_SHORTCODE_OPTIONS): ShortcodeOption[] {
  return searchEmoji(query.replace(/_/g, ' '))
    .slice(0, max)
    .map((entry) => ({ entry, glyph: glyphOf(entry, tone) }));
}

/** `text` with the ":query" at `q` (ending at `caret`) replaced by `glyph`; the caret after it. Undefined past `maxChars`. */
export function applyShortcode(text: string, q: ShortcodeQuery, caret: number, glyph: string, maxChars = Infinity): { text: string; caret: number } | undefined {
  const next = text.slice(0, q.start) + glyph + text.slice(caret);
  if (next.length > maxChars) return undefined;
  return { text: next, caret: q.start + glyph.length };
}

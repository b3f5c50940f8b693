/**
 * The search index's words (README "Search"): how a text becomes index tokens, and a query
 * becomes terms. Unicode-aware and locale-free, so the same text always gives the same tokens:
 *  - lower case (`toLowerCase`, no locale), then NFKD with every combining mark dropped, so
 *    "Crème", "CREME" and "crème" are one word and compatibility forms ("ﬁ", full-width letters)
 *    fold to their plain letters; a few letters that do not decompose fold by table (ß -> ss,
 *    ø -> o, ł -> l, æ -> ae, œ -> oe, đ -> d, ı -> i, þ -> th);
 *  - a word is a run of letters and digits (marks join the letter before them); Han, kana and
 *    other scripts written without spaces give one token per character, so a query in them
 *    matches by characters (every one must occur, not necessarily next to each other).
 * Pure text: knows nothing of storage, crypto or messages.
 */

/** A word of a text: its token and where it stands in the ORIGINAL text (UTF-16 offsets). */
export interface Word {
  token: string;
  start: number;
  end: number;
}

/** Tokens longer than this are cut (a 10 000-letter "word" is no word anyone searches for). */
export const MAX_TOKEN = 32;

const FOLD: Record<string, string> = { ß: 'ss', ø: 'o', ł: 'l', æ: 'ae', œ: 'oe', đ: 'd', ı: 'i', þ: 'th', ŀ: 'l', ħ: 'h' };
const FOLDABLE = new RegExp(`[${Object.keys(FOLD).join('')}]`, 'gu');
const RUN = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
const MARKS = /\p{M}/gu;
const PIECE = /[\p{L}\p{N}]+/gu;
/** Scripts written without spaces between words: one token per character. */
const UNSPACED = /[\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Thai}\p{Script_Extensions=Lao}\p{Script_Extensions=Khmer}\p{Script_Extensions=Myanmar}]/u;

/** The folded form of one word (may split in pieces: NFKD of "½" is "1⁄2"). */
function fold(word: string): string[] {
  const folded = word.toLowerCase().normalize('NFKD').replace(MARKS, '').replace(FOLDABLE, (c) => FOLD[c] ?? c);
  return (folded.match(PIECE) ?? []).map((p) => p.slice(0, MAX_TOKEN));
}

/** Every word of `text` with its position, in order (a word may repeat). */
export function words(text: string): Word[] {
  const out: Word[] = [];
  for (const run of text.matchAll(RUN)) {
    const start = run.index;
    const chunk = run[0];
    if (!UNSPACED.test(chunk)) {
      for (const token of fold(chunk)) out.push({ token, start, end: start + chunk.length });
      continue;
    }
    // Split at each unspaced character; the spaced parts between them stay words.
    let at = 0;
    const flush = (to: number) => {
      if (to > at) for (const token of fold(chunk.slice(at, to))) out.push({ token, start: start + at, end: start + to });
    };
    for (const ch of chunk.matchAll(/./gsu)) {
      const i = ch.index;
      if (!UNSPACED.test(ch[0])) continue;
      flush(i);
      for (const token of fold(ch[0])) out.push({ token, start: start + i, end: start + i + ch[0].length });
      at = i + ch[0].length;
    }
    flush(chunk.length);
  }
  return out;
}

/** The distinct tokens of `text`, as the index stores them. */
export function tokens(text: string): string[] {
  return [...new Set(words(text).map((w) => w.token))];
}

/** A query: every term must match; the last one as a prefix while the user may still be typing it. */
export interface Query {
  terms: string[];
  /** True when the last term is matched as a prefix (the query does not end with a space or mark). */
  prefix: boolean;
}

export function parseQuery(raw: string): Query {
  const ws = words(raw);
  const last = ws.at(-1);
  if (!last) return { terms: [], prefix: false };
  // The last word stays last (it alone may be a prefix), whatever repeats before it.
  const terms = [...new Set(ws.slice(0, -1).map((w) => w.token))].filter((t) => t !== last.token);
  terms.push(last.token);
  return { terms, prefix: last.end === raw.length };
}

/** Whether a stored token satisfies the query term (exact, or as a prefix for the last term). */
export function termMatches(token: string, term: string, prefix: boolean): boolean {
  return prefix ? token.startsWith(term) : token === term;
}

/** Whether the token list of an entry has every term (the last as a prefix when `q.prefix`). */
export function entryMatches(entryTokens: readonly string[], q: Query): boolean {
  const lastIndex = q.terms.length - 1;
  return q.terms.every((term, i) => {
    const prefix = q.prefix && i === lastIndex;
    return entryTokens.some((t) => termMatches(t, term, prefix));
  });
}

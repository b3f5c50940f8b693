/**
 * The snippet of a search hit (README "Search"): a window of the message's text around its first
 * matched word, with every matched word in the window marked by its offsets. Offsets are in the
 * ORIGINAL text (search-text.ts keeps them through folding), so "Crème" is marked whole when
 * "creme" was typed. Pure text; the page renders the snippet as text nodes (never HTML).
 */
import { termMatches, words, type Query } from '../storage/search-text';

/** Characters shown before the first match, and in all. */
export const LEAD = 30;
export const WIDTH = 120;

export interface Snippet {
  text: string;
  marks: [number, number][];
}

function matchesQuery(token: string, q: Query): boolean {
  const last = q.terms.length - 1;
  return q.terms.some((term, i) => termMatches(token, term, q.prefix && i === last));
}

/** Moves `i` off the second half of a surrogate pair. */
function whole(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff ? i - 1 : i;
}

/** The window of `text` around its first word matching `q`, or undefined when no word does. */
export function snippetOf(text: string, q: Query): Snippet | undefined {
  const hits = words(text).filter((w) => matchesQuery(w.token, q));
  const first = hits[0];
  if (!first) return undefined;
  // LEAD characters before the match, less when the text ends soon after it (a short text shows whole).
  let start = Math.max(0, Math.min(first.start - LEAD, text.length - WIDTH));
  if (start > 0) {
    // Start at a word boundary when one is near.
    const space = text.indexOf(' ', start);
    start = space >= 0 && space < first.start ? space + 1 : whole(text, start);
  }
  let end = Math.min(text.length, Math.max(start + WIDTH, first.end));
  if (end < text.length) end = whole(text, end);
  const head = start > 0 ? '…' : '';
  const body = text.slice(start, end).replace(/\s+/g, ' ');
  // Collapsing whitespace changes offsets: map each original offset to the collapsed one.
  const map = collapseMap(text.slice(start, end));
  const marks: [number, number][] = [];
  for (const w of hits) {
    if (w.start < start || w.end > end) continue;
    const from = head.length + map[w.start - start]!;
    const to = head.length + map[w.end - start]!;
    const prev = marks.at(-1);
    if (prev && from <= prev[1]) prev[1] = Math.max(prev[1], to);
    else marks.push([from, to]);
  }
  return { text: `${head}${body}${end < text.length ? '…' : ''}`, marks };
}

/** For each offset of `s` (and its end), the offset in `s` with whitespace runs collapsed to one space. */
function collapseMap(s: string): number[] {
  const map: number[] = [];
  let out = 0;
  let inSpace = false;
  for (let i = 0; i < s.length; i++) {
    map.push(out);
    const space = /\s/.test(s[i]!);
    if (!space || !inSpace) out++;
    inSpace = space;
  }
  map.push(out);
  return map;
}

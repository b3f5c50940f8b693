/**
 * Emoji search (README "Emoji picker"): every word typed must start one of an emoji's words (its
 * CLDR name's words or its keywords), so "thu up" finds 👍 and "party" finds 🎉 and 🥳. Best
 * first: a whole word of the name beats the start of one, a name word beats a keyword, a
 * shorter name beats a longer one; ties keep picker order. Pasting an emoji finds that emoji. Pure.
 */
import { ALL_EMOJI, emojiEntry, wordsOf, type Emoji } from './emoji-data';

/** Longest query looked at, in characters: the field allows more, search ignores the rest. */
export const MAX_QUERY_CHARS = 64;

/** How well query word `q` matches `e`: 0 = not at all. */
function wordScore(e: Emoji, q: string, nameWords: number): number {
  let best = 0;
  e.words.forEach((w, i) => {
    const inName = i < nameWords;
    const score = w === q ? (inName ? 4 : 3) : w.startsWith(q) ? (inName ? 2 : 1) : 0;
    if (score > best) best = score;
  });
  return best;
}

/** The emoji matching `query`, best first; [] for a query of no words. */
export function searchEmoji(query: string, all: readonly Emoji[] = ALL_EMOJI): Emoji[] {
  const trimmed = query.trim().slice(0, MAX_QUERY_CHARS);
  const exact = emojiEntry(trimmed);
  if (exact) return [exact];
  const qs = wordsOf(trimmed);
  if (qs.length === 0) return [];
  const scored: { e: Emoji; score: number; size: number; at: number }[] = [];
  all.forEach((e, at) => {
    const nameWords = new Set(wordsOf(e.name)).size;
    let score = 0;
    for (const q of qs) {
      const s = wordScore(e, q, nameWords);
      if (s === 0) return;
      score += s;
    }
    scored.push({ e, score, size: nameWords, at });
  });
  return scored.sort((a, b) => b.score - a.score || a.size - b.size || a.at - b.at).map((s) => s.e);
}

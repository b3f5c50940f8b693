/**
 * How a message's text is shown (README "Message actions"; SECURITY.md P31): split into plain
 * text and links, and whether it is only a few emoji (shown large).
 *
 * Links: only what starts with `http://` or `https://` and parses as a URL with that protocol
 * becomes a link; everything else — `javascript:`, `data:`, bare domains, markup — stays text.
 * Segments are rendered as text nodes and an `<a href>` attribute (never {@html}); the page opens
 * links in a new tab with rel="noopener noreferrer" and fetches nothing for a preview.
 * Pure: no DOM.
 */

export type TextSegment = { text: string; href?: undefined } | { text: string; href: string };

/** A run that looks like a web address: up to whitespace or a character that never ends one. */
const URL_RUN = /\bhttps?:\/\/[^\s<>"'`\p{Cc}]+/giu;
/** Punctuation that ends a sentence rather than the address. */
const TRAILING = /[.,;:!?)\]}]+$/u;

/** The text as segments, links marked; joining the segments' text gives the input back. */
export function linkify(text: string): TextSegment[] {
  const out: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_RUN)) {
    let run = match[0];
    const start = match.index;
    // Keep a closing bracket that the address itself opened (a Wikipedia link).
    const trail = TRAILING.exec(run)?.[0] ?? '';
    run = run.slice(0, run.length - trail.length);
    if (trail.startsWith(')') && run.split('(').length > run.split(')').length) run += ')';
    const href = safeHref(run);
    if (!href) continue;
    if (start > last) out.push({ text: text.slice(last, start) });
    out.push({ text: run, href });
    last = start + run.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/** The URL as the browser would follow it, if it is http(s) with a host; otherwise undefined. */
export function safeHref(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') return undefined;
  return url.href;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
/** Most emoji in a message that is shown enlarged (as Signal and WhatsApp do for a few). */
export const JUMBO_MAX = 3;

/** True for a text of 1..JUMBO_MAX emoji and nothing else but spaces. */
export function isEmojiOnly(text: string): boolean {
  let count = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (/^\s+$/u.test(segment)) continue;
    if (!EMOJI.test(segment) || /[\p{L}\p{N}]/u.test(segment.replace(/[0-9#*]\ufe0f?\u20e3/gu, ''))) return false;
    if (++count > JUMBO_MAX) return false;
  }
  return count > 0;
}

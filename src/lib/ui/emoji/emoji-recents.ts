/**
 * The "Recent" row of the emoji picker (README "Emoji picker"): the last emoji picked on this
 * device, newest first, kept in localStorage (a preference, not a secret; "Forget this browser"
 * clears it with the app's other keys). What is read back is checked: only emoji the picker
 * offers, once each, at most MAX_RECENT; anything else in the stored value is dropped, never shown.
 * The storage is passed in, so the rules are testable without a browser.
 */
import { emojiEntry } from './emoji-data';

export const RECENT_KEY = 'parley.emojiRecent';
/** Two rows of the picker's eight columns. */
export const MAX_RECENT = 16;

export type RecentStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** `list` with `emoji` moved (or added) to the front, at most MAX_RECENT long. */
export function withRecent(list: readonly string[], emoji: string): string[] {
  return [emoji, ...list.filter((e) => e !== emoji)].slice(0, MAX_RECENT);
}

/** The stored recents, cleaned: unknown, repeated or malformed entries are dropped. */
export function loadRecents(storage: RecentStorage | undefined): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(RECENT_KEY) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const seen = new Set<string>();
  for (const e of raw) {
    if (typeof e === 'string' && emojiEntry(e) && !seen.has(e)) seen.add(e);
    if (seen.size === MAX_RECENT) break;
  }
  return [...seen];
}

/** Records a pick; returns the new list. A storage that refuses (quota, private mode) only loses the row. */
export function rememberRecent(storage: RecentStorage | undefined, emoji: string): string[] {
  const next = withRecent(loadRecents(storage), emoji);
  try {
    storage?.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // The pick itself already happened; only the row is not kept.
  }
  return next;
}

/** This page's localStorage, or undefined where there is none (SSR, tests, blocked storage). */
export function deviceStorage(): RecentStorage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

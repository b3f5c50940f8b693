/**
 * Which rows of a conversation log are in the DOM (DESIGN.md §8, "fast at any length"): a
 * contiguous window of at most MAX_ROWS rows around what the reader sees. Pure index arithmetic:
 * when the rows change (a page prepended, a late message slotted in, a new one appended) the
 * window keeps the rows it showed, and follows new rows at the end only if it already reached it.
 */
import type { LogRow } from './log-rows';

export interface LogWindow {
  /** First row rendered. */
  start: number;
  /** One past the last row rendered. */
  end: number;
}

/** Most rows in the DOM at once (a few screens), and how many a scroll step adds or drops. */
export const MAX_ROWS = 120;
export const STEP = 40;

/** What the window showed, by row id: stable across inserts and prepends. */
export interface WindowMark {
  first?: string;
  last?: string;
  /** The window reached the last row. */
  atEnd: boolean;
}

const id = (r: LogRow | undefined) => r?.message.id;

export function markOf(rows: readonly LogRow[], w: LogWindow): WindowMark {
  const first = id(rows[w.start]);
  const last = id(rows[w.end - 1]);
  return { ...(first ? { first } : {}), ...(last ? { last } : {}), atEnd: w.end >= rows.length };
}

/** The newest `MAX_ROWS` rows: a conversation opens (and "jump to newest" lands) at its end. */
export function newest(rows: readonly LogRow[]): LogWindow {
  return { start: Math.max(0, rows.length - MAX_ROWS), end: rows.length };
}

/**
 * The window over `rows` after they changed: the same first and last rows where they still
 * exist; the end follows new rows if the window reached the end; `trim` (the reader follows the
 * newest) drops rows from the top past MAX_ROWS.
 */
export function reconcile(rows: readonly LogRow[], mark: WindowMark, prev: LogWindow, trim: boolean): LogWindow {
  if (!mark.first) return newest(rows);
  const found = rows.findIndex((r) => r.message.id === mark.first);
  let start = found >= 0 ? found : Math.min(prev.start, rows.length);
  let end: number;
  if (mark.atEnd) end = rows.length;
  else {
    const last = mark.last === undefined ? -1 : rows.findIndex((r) => r.message.id === mark.last);
    end = last >= 0 ? last + 1 : Math.min(prev.end, rows.length);
  }
  start = Math.min(start, end);
  if (trim && end - start > MAX_ROWS) start = end - MAX_ROWS;
  return { start, end };
}

/** STEP more rows above; rows past MAX_ROWS drop off the bottom. */
export function stepUp(w: LogWindow): LogWindow {
  const start = Math.max(0, w.start - STEP);
  return { start, end: Math.min(w.end, start + MAX_ROWS) };
}

/** STEP more rows below; rows past MAX_ROWS drop off the top. */
export function stepDown(w: LogWindow, total: number): LogWindow {
  const end = Math.min(total, w.end + STEP);
  return { start: Math.max(w.start, end - MAX_ROWS), end };
}

/**
 * Putting a picked emoji into the composer where the caret is (README "Emoji picker"): the
 * selection, if any, is replaced, and the caret ends just after what was inserted, so several
 * picks in a row land in order. Pure: the textarea's value and selection in, the new ones out.
 */

export type Inserted = { value: string; caret: number };

/**
 * `insert` put into `value` over the selection [start, end) (clamped to the text; a reversed
 * selection is read in order). Undefined when the result would exceed `maxChars` (the composer's
 * limit): nothing is cut, the text stays as it was.
 */
export function insertAtCaret(value: string, start: number, end: number, insert: string, maxChars = Infinity): Inserted | undefined {
  const clamp = (n: number) => (Number.isFinite(n) ? Math.min(Math.max(0, Math.trunc(n)), value.length) : value.length);
  let a = clamp(start);
  let b = clamp(end);
  if (b < a) [a, b] = [b, a];
  const next = value.slice(0, a) + insert + value.slice(b);
  if (next.length > maxChars) return undefined;
  return { value: next, caret: a + insert.length };
}

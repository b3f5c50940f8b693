/**
 * Splits a search snippet into plain and marked pieces (README "Search"). The page renders each
 * piece as a text node (inside <mark> when matched), never as HTML, so a message's text cannot
 * inject markup through a search result. Marks out of range or out of order are ignored.
 */
export interface Piece {
  text: string;
  mark: boolean;
}

export function pieces(snippet: string, marks: readonly (readonly [number, number])[]): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  for (const [start, end] of marks) {
    if (!(Number.isInteger(start) && Number.isInteger(end)) || start < at || end <= start || end > snippet.length) continue;
    if (start > at) out.push({ text: snippet.slice(at, start), mark: false });
    out.push({ text: snippet.slice(start, end), mark: true });
    at = end;
  }
  if (at < snippet.length) out.push({ text: snippet.slice(at), mark: false });
  return out;
}

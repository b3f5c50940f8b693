/**
 * Moving through the emoji picker's grids with the keyboard (WAI-ARIA APG grid pattern, README
 * "Emoji picker"): the picker shows sections (Recent, then the categories, or the search results),
 * each a grid of COLUMNS columns; arrows move within a section and cross into the next or the
 * previous one at its edges, keeping the column where it can. Pure: positions in, position out.
 */

/** Columns of every emoji grid (fits 390 px phones and the 22.5 rem desktop popover). */
export const COLUMNS = 8;

/** A cell: section index and index within that section. */
export type Pos = { section: number; item: number };

export type GridKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End' | 'PageUp' | 'PageDown' | 'First' | 'Last';

/**
 * Where `key` moves from `at`, given each section's length (empty sections are skipped); 'out'
 * when ArrowUp leaves the first row (back to the search field); `at` itself at the far ends.
 */
export function moveInGrid(lengths: readonly number[], at: Pos, key: GridKey): Pos | 'out' {
  const nonEmpty = (from: number, step: 1 | -1): number | undefined => {
    for (let s = from; s >= 0 && s < lengths.length; s += step) if ((lengths[s] ?? 0) > 0) return s;
    return undefined;
  };
  const len = lengths[at.section] ?? 0;
  const col = at.item % COLUMNS;
  const rowStart = at.item - col;
  switch (key) {
    case 'ArrowRight': {
      if (at.item + 1 < len) return { section: at.section, item: at.item + 1 };
      const next = nonEmpty(at.section + 1, 1);
      return next === undefined ? at : { section: next, item: 0 };
    }
    case 'ArrowLeft': {
      if (at.item > 0) return { section: at.section, item: at.item - 1 };
      const prev = nonEmpty(at.section - 1, -1);
      return prev === undefined ? at : { section: prev, item: (lengths[prev] ?? 1) - 1 };
    }
    case 'ArrowDown': {
      if (at.item + COLUMNS < len) return { section: at.section, item: at.item + COLUMNS };
      // A shorter last row below: its last cell.
      if (rowStart + COLUMNS < len) return { section: at.section, item: len - 1 };
      const next = nonEmpty(at.section + 1, 1);
      return next === undefined ? at : { section: next, item: Math.min(col, (lengths[next] ?? 1) - 1) };
    }
    case 'ArrowUp': {
      if (at.item - COLUMNS >= 0) return { section: at.section, item: at.item - COLUMNS };
      const prev = nonEmpty(at.section - 1, -1);
      if (prev === undefined) return 'out';
      const prevLen = lengths[prev] ?? 1;
      const lastRow = prevLen - 1 - ((prevLen - 1) % COLUMNS);
      return { section: prev, item: Math.min(lastRow + col, prevLen - 1) };
    }
    case 'Home':
      return { section: at.section, item: rowStart };
    case 'End':
      return { section: at.section, item: Math.min(rowStart + COLUMNS, len) - 1 };
    case 'PageDown': {
      const next = nonEmpty(at.section + 1, 1);
      return next === undefined ? { section: at.section, item: len - 1 } : { section: next, item: 0 };
    }
    case 'PageUp': {
      if (at.item > 0) return { section: at.section, item: 0 };
      const prev = nonEmpty(at.section - 1, -1);
      return prev === undefined ? at : { section: prev, item: 0 };
    }
    case 'First': {
      const first = nonEmpty(0, 1);
      return first === undefined ? at : { section: first, item: 0 };
    }
    case 'Last': {
      const last = nonEmpty(lengths.length - 1, -1);
      return last === undefined ? at : { section: last, item: (lengths[last] ?? 1) - 1 };
    }
  }
}

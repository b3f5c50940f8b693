/**
 * Keyboard movement in the emoji picker's grids (src/lib/ui/emoji/emoji-grid.ts, WAI-ARIA APG
 * grid pattern): arrows move within a section of COLUMNS columns and cross into the next or
 * previous section at its edges, keeping the column where it can; ArrowUp from the first row
 * leaves for the search field; the far ends stay put.
 */
import { describe, expect, test } from 'vitest';
import { COLUMNS, moveInGrid, type GridKey, type Pos } from '../../src/lib/ui/emoji/emoji-grid';

const at = (section: number, item: number): Pos => ({ section, item });
// Recent (3), a category of 20 (rows of 8, 8, 4), an empty section (no search hits), a category of 9.
const L = [3, 20, 0, 9];
const move = (p: Pos, k: GridKey) => moveInGrid(L, p, k);

describe('emoji grid keys', () => {
  test('eight columns', () => expect(COLUMNS).toBe(8));

  test('Left and Right walk every cell in order, across sections, skipping empty ones', () => {
    const seen: Pos[] = [at(0, 0)];
    for (;;) {
      const next = move(seen.at(-1)!, 'ArrowRight') as Pos;
      if (next.section === seen.at(-1)!.section && next.item === seen.at(-1)!.item) break;
      seen.push(next);
    }
    expect(seen).toHaveLength(3 + 20 + 9);
    expect(seen.some((p) => p.section === 2)).toBe(false);
    const back: Pos[] = [seen.at(-1)!];
    for (let i = 1; i < seen.length; i++) back.push(move(back.at(-1)!, 'ArrowLeft') as Pos);
    expect(back.reverse()).toEqual(seen);
    expect(move(at(0, 0), 'ArrowLeft')).toEqual(at(0, 0));
  });

  test('Down keeps the column, lands on a short last row, then the next section', () => {
    expect(move(at(1, 2), 'ArrowDown')).toEqual(at(1, 10));
    expect(move(at(1, 10), 'ArrowDown')).toEqual(at(1, 18));
    // Column 6 of the middle row: the last row has 4 cells, so its last one.
    expect(move(at(1, 14), 'ArrowDown')).toEqual(at(1, 19));
    // From the last row into the next non-empty section, same column.
    expect(move(at(1, 18), 'ArrowDown')).toEqual(at(3, 2));
    // A short section above: the column is clamped to its length.
    expect(move(at(0, 2), 'ArrowDown')).toEqual(at(1, 2));
    expect(move(at(3, 8), 'ArrowDown')).toEqual(at(3, 8));
  });

  test('Up keeps the column into the previous section; from the first row it leaves the grid', () => {
    expect(move(at(1, 10), 'ArrowUp')).toEqual(at(1, 2));
    expect(move(at(3, 1), 'ArrowUp')).toEqual(at(1, 17));
    expect(move(at(3, 7), 'ArrowUp')).toEqual(at(1, 19));
    expect(move(at(1, 6), 'ArrowUp')).toEqual(at(0, 2));
    expect(move(at(0, 1), 'ArrowUp')).toBe('out');
  });

  test('Home and End the row, PageUp and PageDown the sections, First and Last the ends', () => {
    expect(move(at(1, 11), 'Home')).toEqual(at(1, 8));
    expect(move(at(1, 11), 'End')).toEqual(at(1, 15));
    expect(move(at(1, 17), 'End')).toEqual(at(1, 19));
    expect(move(at(1, 5), 'PageDown')).toEqual(at(3, 0));
    expect(move(at(3, 4), 'PageDown')).toEqual(at(3, 8));
    expect(move(at(3, 4), 'PageUp')).toEqual(at(3, 0));
    expect(move(at(3, 0), 'PageUp')).toEqual(at(1, 0));
    expect(move(at(1, 7), 'First')).toEqual(at(0, 0));
    expect(move(at(0, 1), 'Last')).toEqual(at(3, 8));
    expect(moveInGrid([0, 5], at(1, 3), 'First')).toEqual(at(1, 0));
  });
});

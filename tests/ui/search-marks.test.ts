/**
 * P31 a search snippet is split into text pieces only (src/lib/ui/search-marks.ts): marks from the
 * vault that are out of range, reversed or overlapping are ignored, so no piece ever holds more or
 * other text than the snippet has.
 */
import { describe, expect, test } from 'vitest';
import { pieces } from '../../src/lib/ui/search-marks';

describe('search marks', () => {
  test('P31 marked and plain pieces cover the snippet exactly once', () => {
    expect(pieces('<b>crème</b> brûlée', [[3, 8], [13, 19]])).toEqual([
      { text: '<b>', mark: false },
      { text: 'crème', mark: true },
      { text: '</b> ', mark: false },
      { text: 'brûlée', mark: true }
    ]);
  });

  test('P31 bad marks are ignored, never sliced into the text', () => {
    const s = 'hello world';
    for (const marks of [[[6, 99]], [[4, 2]], [[-1, 3]], [[0, 5], [3, 8]], [[1.5, 3]]] as [number, number][][]) {
      expect(pieces(s, marks).map((p) => p.text).join('')).toBe(s);
    }
    expect(pieces(s, [[0, 5], [3, 8]]).filter((p) => p.mark)).toEqual([{ text: 'hello', mark: true }]);
  });
});

// Records keyed by usernames (src/lib/codec/by-name.ts): "constructor" and "__proto__" are valid
// usernames, so they must be entries like any other, through JSON and structured clone as well.
import { describe, expect, test } from 'vitest';
import { entryOf, withEntry } from '../../src/lib/codec/by-name';

describe('records keyed by usernames', () => {
  test('an inherited name is no entry; an own one is, whatever its name', () => {
    expect(entryOf({}, 'constructor')).toBeUndefined();
    expect(entryOf({}, '__proto__')).toBeUndefined();
    expect(entryOf(undefined, 'bob')).toBeUndefined();
    const r = Object.fromEntries([['__proto__', 'a'], ['constructor', 'b']]);
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(entryOf(r, '__proto__')).toBe('a');
    expect(entryOf(r, 'constructor')).toBe('b');
    expect(Object.keys(r)).toEqual(['__proto__', 'constructor']);
  });

  test('withEntry sets a name last, replaces it, removes it, and never touches the original', () => {
    const base = Object.fromEntries([['ann', '👍']]);
    const a = withEntry(base, '__proto__', '🎉');
    expect(Object.entries(a)).toEqual([['ann', '👍'], ['__proto__', '🎉']]);
    const b = withEntry<string>(withEntry(a, 'ann', '🔥'), '__proto__', undefined);
    expect(Object.entries(b)).toEqual([['ann', '🔥']]);
    expect(Object.entries(base)).toEqual([['ann', '👍']]);
    expect(Object.entries(withEntry(undefined, 'constructor', 1))).toEqual([['constructor', 1]]);
  });

  test('the entries survive JSON and structured clone as own entries', () => {
    const r = Object.fromEntries([['__proto__', 'x'], ['constructor', 'y']]);
    for (const back of [JSON.parse(JSON.stringify(r)) as Record<string, string>, structuredClone(r)]) {
      expect(entryOf(back, '__proto__')).toBe('x');
      expect(entryOf(back, 'constructor')).toBe('y');
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    }
  });
});

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Labels, labelBytes } from '../../src/lib/crypto/labels';

const ROOT = new URL('../../', import.meta.url).pathname;
const SCANNED_DIRS = ['src/lib/crypto', 'src/lib/wire'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|svelte)$/.test(name)) out.push(path);
  }
  return out;
}

/**
 * Every 'Parley_…' token that opens a string or template literal. A label may be followed by a
 * separator or interpolation (`Parley_TestRng:${seed}`), so the token stops at the first
 * character a label never contains.
 */
function labelLiterals(text: string): string[] {
  return [...text.matchAll(/['"`](Parley_[A-Za-z0-9_.-]*)/g)].map((m) => m[1]!);
}

describe('P6 every KDF/signature label is unique', () => {
  const values = Object.values(Labels);

  test('all labels are pairwise distinct and none is a prefix of another', () => {
    expect(values.length).toBeGreaterThan(1);
    expect(new Set(values).size).toBe(values.length);
    for (const a of values) {
      for (const b of values) {
        if (a !== b) expect(b.startsWith(a), `"${a}" is a prefix of "${b}"`).toBe(false);
      }
    }
  });

  test('labels are ASCII and encode to their own length (no normalisation surprises)', () => {
    for (const l of values) {
      expect(l).toMatch(/^Parley_[\x21-\x7e]+$/);
      expect(labelBytes(l).length).toBe(l.length);
    }
  });

  test('no stray Parley_ string literal exists in the core outside Labels', () => {
    const known = new Set<string>(values);
    const files = SCANNED_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(3);
    const stray: string[] = [];
    for (const f of files) {
      for (const lit of labelLiterals(readFileSync(f, 'utf8'))) {
        if (!known.has(lit)) stray.push(`${f.slice(ROOT.length)}: ${lit}`);
      }
    }
    expect(stray).toEqual([]);
  });

  test('the scanner finds labels in quotes and templates', () => {
    expect(labelLiterals(`x('Parley_A'); y("Parley_B-1"); z(\`Parley_C:\${n}\`); w(Parley_D)`)).toEqual([
      'Parley_A',
      'Parley_B-1',
      'Parley_C'
    ]);
  });
});

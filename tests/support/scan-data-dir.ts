/**
 * Breach scan (DESIGN.md §9): reads every file under a data directory, including SQLite's -wal
 * and -shm side files, and reports which of the given byte strings occur anywhere in them.
 * A test that expects "not found" is only meaningful next to a positive control, so callers
 * should also look for something that must be there (e.g. an envelope's ciphertext).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ScanHit {
  needle: string;
  file: string;
  offset: number;
}

export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) out.push(...filesUnder(p));
    else if (s.isFile()) out.push(p);
  }
  return out;
}

/** Every occurrence (first per file) of each named needle in every file under `dir`. */
export function scanDataDir(dir: string, needles: Record<string, Uint8Array | string>): ScanHit[] {
  const hits: ScanHit[] = [];
  const files = filesUnder(dir);
  for (const file of files) {
    const data = readFileSync(file);
    for (const [name, needle] of Object.entries(needles)) {
      const bytes = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle);
      if (bytes.length === 0) continue;
      const offset = data.indexOf(bytes);
      if (offset >= 0) hits.push({ needle: name, file, offset });
    }
  }
  return hits;
}

// Keeps `npm run bench:crypto` from rotting: runs the real benchmark script (every arm: libsignal,
// Parley in memory, Parley on the stored path; every workload, every plaintext checked) for a
// handful of iterations and checks the --json contract.
// No timing assertions: the figures of a smoke run mean nothing.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEYS = ['handshakesPerSec', 'pingPongPairsPerSec', 'streamPairsPerSec', 'reverse1000Ms', 'streamBacklogPairsPerSec', 'reverseBacklog1000Ms'] as const;

test('the crypto benchmark runs every arm and its last --json line has all 18 figures, 12 ratio spreads and the IndexedDB floor as positive numbers', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'tests/bench/crypto.bench.ts', '--json', '--smoke'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000
  });
  const lines = out.trimEnd().split('\n');
  const result = JSON.parse(lines[lines.length - 1]!) as Record<string, Record<string, unknown>>;
  expect(Object.keys(result).sort()).toEqual(['indexedDbFloor', 'libsignal', 'parley', 'ratios', 'sealed', 'stored']);
  const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  for (const impl of ['parley', 'libsignal', 'stored']) {
    expect(Object.keys(result[impl]!).sort()).toEqual([...KEYS].sort());
    for (const k of KEYS) expect(positive(result[impl]![k]), `${impl}.${k} = ${String(result[impl]![k])}`).toBe(true);
  }
  const ratios = result.ratios as Record<string, Record<string, { median: number; min: number; max: number }>>;
  expect(Object.keys(ratios).sort()).toEqual(['parley', 'stored']);
  for (const arm of ['parley', 'stored']) {
    expect(Object.keys(ratios[arm]!).sort()).toEqual([...KEYS].sort());
    for (const k of KEYS) {
      const s = ratios[arm]![k]!;
      expect(positive(s.min) && s.min <= s.median && s.median <= s.max, `${arm}.${k} = ${JSON.stringify(s)}`).toBe(true);
    }
  }
  const floor = result.indexedDbFloor as Record<string, unknown>;
  expect(positive(floor.bareCommitUs) && positive(floor.storedStreamRatioCap), JSON.stringify(floor)).toBe(true);
  // P41: the sealed figure (1 KiB sealed vs unsealed, same run), whatever it measures.
  const sealed = result.sealed as Record<string, unknown>;
  expect(positive(sealed.unsealedUs) && positive(sealed.sealedUs) && positive(sealed.ratio), JSON.stringify(sealed)).toBe(true);
  expect(sealed.messageBytes).toBe(1024);
  expect(sealed.targetRatio).toBe(1.5);
  expect(typeof sealed.meetsTarget).toBe('boolean');
  // The human table and the size report are printed too.
  expect(out).toMatch(/stream pairs \/ s/);
  expect(out).toMatch(/stream, pages of \d+ \/ s/);
  expect(out).toMatch(/overhead normal message/);
  expect(out).toMatch(/sealed sender, 1024-byte message/);
}, 90_000);

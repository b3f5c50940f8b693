// Keeps `npm run bench:crypto` from rotting: runs the real benchmark script (both drivers, every
// workload, every plaintext checked) for a handful of iterations and checks the --json contract.
// No timing assertions: the figures of a smoke run mean nothing.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEYS = ['handshakesPerSec', 'pingPongPairsPerSec', 'streamPairsPerSec', 'reverse1000Ms'] as const;

test('the crypto benchmark runs both drivers and its last --json line has all 8 figures as positive numbers', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'tests/bench/crypto.bench.ts', '--json', '--smoke'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000
  });
  const lines = out.trimEnd().split('\n');
  const result = JSON.parse(lines[lines.length - 1]!) as Record<string, Record<string, unknown>>;
  expect(Object.keys(result).sort()).toEqual(['libsignal', 'parley']);
  for (const impl of ['parley', 'libsignal']) {
    expect(Object.keys(result[impl]!).sort()).toEqual([...KEYS].sort());
    for (const k of KEYS) {
      const v = result[impl]![k];
      expect(typeof v === 'number' && Number.isFinite(v) && v > 0, `${impl}.${k} = ${String(v)}`).toBe(true);
    }
  }
  // The human table and the size report are printed too.
  expect(out).toMatch(/stream pairs \/ s/);
  expect(out).toMatch(/overhead normal message/);
}, 90_000);

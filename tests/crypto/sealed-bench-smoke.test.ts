// Keeps the sealed arm of the crypto benchmark (tests/bench/sealed-arm.ts) from rotting: runs the
// real script for a handful of messages (every plaintext checked) and checks its --json contract.
// No timing assertions: the figures of a smoke run mean nothing.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('P41 the sealed benchmark arm runs every arm and prints {sealed:{sealedUs, unsealedUs, ratio, spread, stream}}', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'tests/bench/sealed-arm.ts', '--json', '--smoke'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const lines = out.trimEnd().split('\n');
  const { sealed } = JSON.parse(lines[lines.length - 1]!) as { sealed: Record<string, unknown> & { stream: Record<string, unknown>; uncached: Record<string, unknown> } };
  for (const f of [sealed, sealed.uncached, sealed.stream, sealed.stream.uncached as Record<string, unknown>]) {
    for (const k of ['sealedUs', 'unsealedUs', 'ratio'] as const) {
      const v = f[k];
      expect(typeof v === 'number' && Number.isFinite(v) && v > 0, `${k} = ${String(v)}`).toBe(true);
    }
    expect(f.spread).toHaveProperty('ratio');
  }
  expect(sealed.shape).toBe('reply');
  expect(out).toMatch(/target ratio ≤ 1\.5/);
}, 90_000);

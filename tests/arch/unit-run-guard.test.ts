/**
 * The guard `npm run test:unit` runs Vitest through (tests/support/unit-run.ts): a worker process
 * that dies after its file's tests passed gets that file run once more, named and printed; a
 * failed test still fails the run, crash or not. Runs the real script on a fixture project.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../support/dead-worker-fixture/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../support/unit-run.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function guard(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], { cwd: FIXTURE, env: { ...process.env, ...env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('unit-run guard', () => {
  test('a worker that dies after its tests passed: its file is named and run again, and the run passes', () => {
    const r = guard({ DIE_ONCE_MARKER: join(dir, 'once') });
    expect(r.out).toMatch(/Worker exited unexpectedly/);
    expect(r.out).toMatch(/Vitest forks that ended on their own: pid \d+: SIGSEGV/);
    expect(r.out).toMatch(/Files it had not finished:\s+\S*dies\.fixture\.test\.ts/);
    expect(r.out).toMatch(/Rerun of the unfinished files after a dead worker: passed/);
    expect(r.code).toBe(0);
  });

  test('a failed test fails the run even when a worker also died, and nothing is run again', () => {
    const r = guard({ DIE_ONCE_MARKER: join(dir, 'twice'), FIXTURE_FAIL: '1' });
    expect(r.out).toMatch(/Worker exited unexpectedly/);
    expect(r.out).not.toMatch(/Running them once more/);
    expect(r.code).toBe(1);
  });

  test('a worker that dies every time fails the run after the one rerun', () => {
    const r = guard({ DIE_ALWAYS: '1' });
    expect(r.out).toMatch(/Rerun of the unfinished files after a dead worker: FAILED/);
    expect(r.code).not.toBe(0);
  });

  test('a clean run passes untouched', () => {
    const r = guard({});
    expect(r.out).not.toMatch(/dead worker|Running them once more/);
    expect(r.code).toBe(0);
  });
});

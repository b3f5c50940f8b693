/**
 * A closed host lets its process go: nothing it started (its threads, the PeerServer's re-arming
 * timers, the close grace timer) keeps the event loop alive. Run in a child process, which must
 * exit by itself (no process.exit) soon after close() returns.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { postgresPerFile } from '../support/postgres-per-file';
import { tempDir } from './support';

const SERVER = fileURLToPath(new URL('../../src/host/server.ts', import.meta.url));

const pg = postgresPerFile();

/** Runs a child that creates a host with `options` (source text of extra HostOptions), uses it, closes it; how the child ended. */
async function closeInChild(options: string): Promise<{ ended: number | string; out: string }> {
  const dir = tempDir();
  const script = join(dir, 'close.mts');
  writeFileSync(
    script,
    `import { createHost } from ${JSON.stringify(SERVER)};
const host = await createHost({ port: 0, dataDir: ${JSON.stringify(join(dir, 'data'))}, ${options} });
const res = await fetch(host.url + '/peerjs');
if (res.status !== 200) throw new Error('signalling answered ' + res.status);
await new Promise((r) => setTimeout(r, 700)); // the PeerServer's timers have re-armed by now
await host.close();
console.log('closed ' + Date.now());
`
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // Its exit code, or the signal that ended it: SIGKILL here means it was still running 5 s
  // after close() returned (or 30 s after it started).
  const ended = await new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    const watch = setInterval(() => {
      if (!/closed \d+/.test(out)) return;
      clearInterval(watch);
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, 50);
    child.once('exit', () => clearInterval(watch));
    setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
  });
  return { ended, out };
}

describe('host close', () => {
  test('a process that made, used and closed a host on SQLite exits by itself', async () => {
    const { ended, out } = await closeInChild('');
    expect(out).toMatch(/closed \d+/);
    expect(ended).toBe(0);
  });

  test('a process that made, used and closed a host on PostgreSQL exits by itself', async () => {
    const url = await pg.createDatabase('close_exits');
    const { ended, out } = await closeInChild(`databaseUrl: ${JSON.stringify(url)}, nameKey: new Uint8Array(32).fill(7)`);
    expect(out).toMatch(/closed \d+/);
    expect(ended).toBe(0);
  });
});

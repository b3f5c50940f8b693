/**
 * Helpers for engine tests that run against the real host over real sockets: a fresh host per
 * test, polling until a check passes (there is no settle point to await), and a chat's texts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { createHost, type RunningHost } from '../../src/host/server';
import type { Engine } from '../../workers/engine/engine';

export interface RealHost {
  /** This test's host; a test may close it early (then set undefined) or replace it. */
  host: RunningHost | undefined;
  dataDir: string;
}

/**
 * The real host (src/host/server.ts) on a loopback port for every test, its SQLite files in a
 * fresh temp directory. After the test `release` runs first (the test's engines or sockets),
 * then the host closes and the directory is removed.
 */
export function realHostPerTest(prefix: string, release: () => Promise<void> | void = () => undefined): RealHost {
  const real: RealHost = { host: undefined, dataDir: '' };
  beforeEach(async () => {
    real.dataDir = mkdtempSync(join(tmpdir(), prefix));
    real.host = await createHost({ port: 0, dataDir: real.dataDir });
  });
  afterEach(async () => {
    await release();
    await real.host?.close();
    real.host = undefined;
    rmSync(real.dataDir, { recursive: true, force: true });
  });
  return real;
}

/** Polls `check` every 25 ms until it passes, or rethrows its last failure after `ms`. */
export async function eventually(check: () => Promise<void> | void, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** The texts of a chat in order, without system entries (notices, call log). */
export async function texts(e: Engine, chat: string): Promise<string[]> {
  return (await e.listMessages(chat)).flatMap((m) => (m.kind === 'text' ? [m.text] : []));
}

/**
 * Helpers for engine tests that run against the real host over real sockets: a fresh host per
 * test (with engines on it), polling until a check passes (there is no settle point to await), and a chat's texts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { LockKdf } from '../../workers/engine/app-lock';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import WebSocket from 'ws';
import { createHost, type RunningHost } from '../../src/host/server';
import type { Limits } from '../../src/host/limits';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { httpProfiles, httpUsernameLinks } from '../../workers/engine/profile-transport';

export interface RealHost {
  /** This test's host; a test may close it early (then set undefined) or replace it. */
  host: RunningHost | undefined;
  dataDir: string;
  /** The host's log lines of this test, when `realHostPerTest` was asked to keep them. */
  lines: string[];
}

export interface RealHostOptions {
  /** Keep the host's log lines in `lines` (tests that prove what the logs do not hold). */
  keepLog?: boolean;
  /** Limits other than the defaults (limits.ts). */
  limits?: Partial<Limits>;
}

/**
 * The real host (src/host/server.ts) on a loopback port for every test, its SQLite files in a
 * fresh temp directory. After the test `release` runs first (the test's engines or sockets),
 * then the host closes and the directory is removed.
 */
export function realHostPerTest(prefix: string, release: () => Promise<void> | void = () => undefined, options: RealHostOptions = {}): RealHost {
  const real: RealHost = { host: undefined, dataDir: '', lines: [] };
  beforeEach(async () => {
    real.dataDir = mkdtempSync(join(tmpdir(), prefix));
    real.lines = [];
    const log = options.keepLog ? (l: string) => void real.lines.push(l) : () => undefined;
    real.host = await createHost({ port: 0, dataDir: real.dataDir, log, ...(options.limits ? { limits: options.limits } : {}) });
  });
  afterEach(async () => {
    await release();
    await real.host?.close();
    real.host = undefined;
    rmSync(real.dataDir, { recursive: true, force: true });
  });
  return real;
}

export interface EngineOnHostOptions {
  /** Wraps the engine's transport before the engine opens (to record or fault its uploads). */
  wrap?: (transport: HostHttpTransport) => void;
  /** Gives the engine the host's profile blobs (P43), as the app does; over `fetch` when one is given. */
  profiles?: true | typeof fetch;
  /** Gives the engine the host's username links, as the app does; over `fetch` when one is given. */
  usernameLinks?: true | typeof fetch;
  /** The app lock's Argon2id cost (tests pass a cheap one; crypto/app-lock.ts pins the real one). */
  appLockKdf?: LockKdf;
}

/**
 * A real host per test plus `user(name)`: a fresh engine with a new account on it, connected.
 * Every engine a test opened is closed before its host.
 */
export function enginesOnRealHost(prefix: string, options: RealHostOptions = {}): { real: RealHost; user: (name: string, o?: EngineOnHostOptions) => Promise<Engine> } {
  const engines: Engine[] = [];
  let n = 0;
  const real = realHostPerTest(prefix, async () => {
    for (const e of engines.splice(0)) await e.close();
  }, options);
  const user = async (name: string, o: EngineOnHostOptions = {}): Promise<Engine> => {
    const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
    o.wrap?.(transport);
    const over = (f: true | typeof fetch) => (f === true ? undefined : f);
    const profiles = o.profiles ? { profiles: httpProfiles(real.host!.url, over(o.profiles)) } : {};
    const links = o.usernameLinks ? { usernameLinks: httpUsernameLinks(real.host!.url, over(o.usernameLinks)) } : {};
    const lock = o.appLockKdf ? { appLockKdf: o.appLockKdf } : {};
    const e = await Engine.open({ transport, ...profiles, ...links, ...lock, dbName: `${prefix}${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
    engines.push(e);
    await e.createAccount(name);
    e.connect();
    return e;
  };
  return { real, user };
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

/**
 * `real`, except that every request `hold` picks goes to a host that never answers it, as over a
 * stalled network: it waits until it is aborted, then fails as fetch does. `held` counts them.
 */
export function withholding(real: typeof fetch, hold: (input: string, init: RequestInit) => boolean): { fetch: typeof fetch; held: number } {
  const w = {
    held: 0,
    fetch: ((input, init = {}) => {
      if (!hold(String(input), init)) return real(input, init);
      w.held++;
      return new Promise<Response>((_, reject) => init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    }) as typeof fetch
  };
  return w;
}

/** `withholding` on the transport's own requests (the host API and blobs). */
export function withholdFetch(transport: HostHttpTransport, hold: (input: string, init: RequestInit) => boolean): { held: number } {
  const slot = transport as unknown as { fetchImpl: typeof fetch };
  const w = withholding(slot.fetchImpl, hold);
  slot.fetchImpl = w.fetch;
  return w;
}

/** Reactions with `who` sorted: members who react independently reach a reader in no fixed order. */
export function reactionsAsSets<R extends { who: readonly string[] }>(reactions: readonly R[] | undefined): R[] | undefined {
  return reactions?.map((r) => ({ ...r, who: [...r.who].sort() }));
}

/** The texts of a chat in order, without system entries (notices, call log). */
export async function texts(e: Engine, chat: string): Promise<string[]> {
  return (await e.listMessages(chat)).flatMap((m) => (m.kind === 'text' ? [m.text] : []));
}

/** The key of the file named `name` in `e`'s chat with `chat`, once it arrived. */
export async function fileKeyIn(e: Engine, chat: string, name: string): Promise<string> {
  let id = '';
  await eventually(async () => {
    const m = (await e.listMessages(chat)).find((x) => x.kind === 'text' && x.attachment?.name === name);
    if (!m) throw new Error(`no file "${name}" from ${chat} yet`);
    id = m.id;
  });
  return id;
}

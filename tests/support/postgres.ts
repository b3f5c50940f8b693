/**
 * A throwaway PostgreSQL cluster for tests and benchmarks, from the Debian `postgresql` package
 * (.ci/run installs it): `initdb` into a temp directory, then `postgres` on 127.0.0.1 at a free
 * port with its unix socket in that directory, stopped and deleted afterwards. Nothing outside
 * this machine is touched and no system cluster is used.
 *
 * PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres` OS user
 * the package creates (or `nobody`), which then owns the temp directory. Authentication is
 * `trust` for the one role `parley`: only loopback and a 0700 socket directory reach it.
 * The server is tethered (tethered.ts): it dies with the test process.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';
import { startTethered, type Tethered } from './tethered';

export interface PgClusterOptions {
  /** fsync on commit (default true: what production runs; the benchmark needs it). */
  fsync?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

export interface PgCluster {
  readonly port: number;
  /** Connection URL of `database` (default: the maintenance database `postgres`). */
  url(database?: string): string;
  /** A new empty database; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server: 'fast' (SIGINT, clean) or 'immediate' (SIGQUIT, recovery on next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** SIGKILL to the postmaster and all its backends at once, as if the machine lost them. */
  crash(): Promise<void>;
  /** Starts the server again on the same port and data (after stop or crash). */
  start(): Promise<void>;
  /** Stops the server (immediate) and deletes everything. */
  destroy(): Promise<void>;
  /** The server log's tail, for failure messages. */
  logTail(): string;
}

const ROLE = 'parley';

/** The newest installed server binaries (PARLEY_PG_BIN overrides). */
export function postgresBinDir(): string {
  if (process.env.PARLEY_PG_BIN) return process.env.PARLEY_PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql (.ci/run does)');
  }
  return join(base, versions[0]!, 'bin');
}

/** uid/gid to run the server as: ourselves, or an unprivileged account when we are root. */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const row = passwd.find((f) => f[0] === 'postgres') ?? passwd.find((f) => f[0] === 'nobody');
  if (!row) throw new Error('running as root and no postgres or nobody account to run PostgreSQL as');
  return { uid: Number(row[2]), gid: Number(row[3]) };
}

function run(cmd: string, args: string[], user: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { ...user, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${err.slice(-2000)}`))));
  });
}

export async function startPostgres(o: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = postgresBinDir();
  const user = serverUser();
  const root = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  const data = join(root, 'data');
  const sock = join(root, 'sock');
  const logFile = join(root, 'server.log');
  mkdirSync(sock);
  chmodSync(root, 0o700);
  if (user.uid !== undefined) for (const p of [root, sock]) chownSync(p, user.uid, user.gid!);
  // --no-sync only skips initdb's own final fsync of the template files.
  await run(join(bin, 'initdb'), ['-D', data, '-U', ROLE, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], user);

  let port = 0;
  let server: Tethered | undefined;
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: sock,
    fsync: o.fsync === false ? 'off' : 'on',
    shared_buffers: '64MB',
    max_connections: 60,
    logging_collector: 'off',
    ...o.settings
  };

  async function boot(): Promise<void> {
    const args = ['-D', data, '-p', String(port)];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    server = await startTethered(join(bin, 'postgres'), args, { logFile, ...user, onOrphan: 'SIGQUIT', removeOnOrphan: root });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!server.running()) throw new Error(`postgres exited while starting:\n${server.logTail()}`);
      const c = new pg.Client({ host: '127.0.0.1', port, user: ROLE, database: 'postgres' });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres not ready after 30 s:\n${server.logTail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  // The free port can be taken between probe and bind by someone else: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await boot();
      break;
    } catch (e) {
      if (server?.running()) server.crash();
      if (attempt >= 2) {
        rmSync(root, { recursive: true, force: true });
        throw e;
      }
    }
  }

  const url = (database = 'postgres') => `postgres://${ROLE}@127.0.0.1:${port}/${database}`;
  let dbCount = 0;

  async function halt(sig: NodeJS.Signals): Promise<void> {
    const s = server;
    if (!s?.running()) return;
    s.signal(sig);
    await s.exited;
  }

  return {
    port,
    url,
    async createDatabase(name = `t${process.pid}_${++dbCount}`) {
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    stop: (mode = 'fast') => halt(mode === 'fast' ? 'SIGINT' : 'SIGQUIT'),
    async crash() {
      const s = server;
      if (!s?.running()) return;
      s.crash();
      await s.exited;
      // Backends die with the postmaster's group; the next start finds a stale postmaster.pid
      // whose pid is gone and recovers from the WAL.
    },
    async start() {
      if (server?.running()) return;
      // Killed backends may still be exiting (holding the old shared memory) for a moment.
      for (let attempt = 0; ; attempt++) {
        try {
          return await boot();
        } catch (e) {
          if (attempt >= 5) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    async destroy() {
      // Immediate: the data is deleted next, so the shutdown checkpoint would be wasted I/O.
      await halt('SIGQUIT');
      rmSync(root, { recursive: true, force: true });
    },
    logTail: () => server?.logTail() ?? ''
  };
}

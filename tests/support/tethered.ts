/**
 * A server process for tests that cannot outlive the test run: it is started through a tiny
 * `sh` watchdog that holds the write end of a pipe from this process, so when the test process
 * exits for any reason (even SIGKILL) the watchdog sees end-of-file and sends the server
 * `onOrphan` (SIGQUIT for PostgreSQL: immediate shutdown). Without it an aborted Vitest run
 * would leave a postmaster or a turnserver running on a shared machine.
 *
 * The server runs in its own session and process group (setsid), so `crash()` can SIGKILL it
 * together with every child it forked (a postmaster's backends), which is what a machine losing
 * the process looks like, while the watchdog survives to reap it at once (this machine's init
 * reaps orphans only lazily, and a zombie postmaster would block the next start's lock file). `uid`/`gid` run it as another OS user (PostgreSQL refuses to run as root).
 * Only ever signals the processes it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface TetheredOptions {
  /** File that receives the server's stdout and stderr (appended). */
  logFile: string;
  uid?: number;
  gid?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Signal the watchdog sends when the test process is gone (default SIGTERM). */
  onOrphan?: 'SIGTERM' | 'SIGQUIT' | 'SIGINT';
  /** Directory the watchdog deletes after the server exits, if the test process is gone. */
  removeOnOrphan?: string;
}

export interface Tethered {
  /** The server's own pid (not the watchdog's). */
  readonly pid: number;
  /** Resolves with the server's exit code (128 + n if it died of signal n). */
  readonly exited: Promise<number>;
  readonly running: () => boolean;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL to the server's process group: it and its children die at once. */
  crash(): void;
  /** The last `bytes` of the log, for error messages. */
  logTail(bytes?: number): string;
}

// $1 = signal for orphaning, $2 = directory to delete once orphaned (or ''), then the command. The server runs in the background with stdin
// from /dev/null; the guard loop reads fd 3 (our pipe) until EOF, then signals the server. When
// the server exits first, the guard is stopped, so it can never signal a reused pid.
const WATCHDOG = `sig="$1"; cleanup="$2"; shift 2
exec 3<&0
setsid "$@" </dev/null &
pid=$!
echo "$pid"
( while read -r _ <&3; do :; done; kill -s "$sig" "$pid" 2>/dev/null ) &
guard=$!
wait "$pid"
code=$?
if kill "$guard" 2>/dev/null; then :; elif [ -n "$cleanup" ]; then rm -rf "$cleanup"; fi
exit "$code"
`;

export async function startTethered(command: string, args: string[], o: TetheredOptions): Promise<Tethered> {
  const log = openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', (o.onOrphan ?? 'SIGTERM').replace(/^SIG/, ''), o.removeOnOrphan ?? '', command, ...args], {
      detached: true,
      stdio: ['pipe', 'pipe', log],
      uid: o.uid,
      gid: o.gid,
      cwd: o.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...o.env }
    });
  } finally {
    closeSync(log);
  }
  // The watchdog must not keep the test process alive, nor die with our event loop's end.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const exited = new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? signalNumber(sig) : 0))));
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`${command} exited with ${code} before starting`)));
  });
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  let running = true;
  void exited.then(() => (running = false));
  const tail = (bytes = 4000) => {
    try {
      const all = readFileSync(o.logFile, 'utf8');
      return all.slice(-bytes);
    } catch {
      return '';
    }
  };
  return {
    pid,
    exited,
    running: () => running,
    // Whoever signals waits for the exit next: keep the event loop alive until it comes.
    signal(sig) {
      if (!running) return;
      child.ref();
      process.kill(pid, sig);
    },
    crash() {
      if (!running) return;
      child.ref();
      process.kill(-pid, 'SIGKILL');
    },
    logTail: tail
  };
}

function signalNumber(sig: NodeJS.Signals): number {
  const n = ({ SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig];
  return n ?? 0;
}

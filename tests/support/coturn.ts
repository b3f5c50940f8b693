/**
 * A throwaway coturn for tests, from the Debian `coturn` package (.ci/run installs it):
 * `turnserver` with no config file, UDP and TCP on one free port of `listenIp` (default
 * 127.0.0.1), relaying from the same address, with the REST shared-secret scheme the host mints
 * credentials for (`--use-auth-secret`, SECURITY.md P29). Loopback peers are allowed (everything
 * here runs on one machine); TLS, DTLS, the CLI and multicast peers are off. Tethered: it dies
 * with the test process (tethered.ts). Ready once it answers a STUN Binding request.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { startTethered, type Tethered } from './tethered';
import { TurnClient } from './turn-client';

export interface Coturn {
  readonly ip: string;
  readonly port: number;
  readonly secret: string;
  readonly realm: string;
  /** `turn:ip:port?transport=udp` and `...tcp`. */
  readonly urls: string[];
  stop(): Promise<void>;
  logTail(): string;
}

export function turnserverPath(): string {
  for (const p of ['/usr/bin/turnserver', '/usr/local/bin/turnserver']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v turnserver'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error('turnserver not found: apt-get install coturn (.ci/run does)');
}

export async function startCoturn(o: { secret?: string; realm?: string; listenIp?: string } = {}): Promise<Coturn> {
  const bin = turnserverPath();
  const secret = o.secret ?? `test-secret-${process.pid}-${Date.now()}`;
  const realm = o.realm ?? 'parley';
  const ip = o.listenIp ?? '127.0.0.1';
  const root = mkdtempSync(join(tmpdir(), 'parley-turn-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    // A window of relay ports of our own, so parallel test files rarely compete for one.
    const minPort = 20_000 + Math.floor(Math.random() * 400) * 100;
    const args = [
      '-n', '--listening-ip', ip, '--relay-ip', ip, '--listening-port', String(port),
      '--min-port', String(minPort), '--max-port', String(minPort + 99),
      '--use-auth-secret', `--static-auth-secret=${secret}`, `--realm=${realm}`,
      '--fingerprint', '--no-cli', '--no-tls', '--no-dtls', '--no-multicast-peers', '--allow-loopback-peers',
      '--db', join(root, 'turndb'), '--pidfile', join(root, 'turnserver.pid'), '--log-file', 'stdout', '--simple-log'
    ];
    let server: Tethered | undefined;
    try {
      server = await startTethered(bin, args, { logFile: join(root, 'turnserver.log'), onOrphan: 'SIGTERM', removeOnOrphan: root });
      await waitForBinding(ip, port, server);
      const s = server;
      return {
        ip,
        port,
        secret,
        realm,
        urls: [`turn:${ip}:${port}?transport=udp`, `turn:${ip}:${port}?transport=tcp`],
        async stop() {
          if (s.running()) {
            s.signal('SIGTERM');
            await s.exited;
          }
          rmSync(root, { recursive: true, force: true });
        },
        logTail: () => s.logTail()
      };
    } catch (e) {
      if (server?.running()) {
        server.crash();
        await server.exited;
      }
      if (attempt >= 2) {
        rmSync(root, { recursive: true, force: true });
        throw e;
      }
    }
  }
}

async function waitForBinding(ip: string, port: number, server: Tethered): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (!server.running()) throw new Error(`turnserver exited while starting:\n${server.logTail()}`);
    const c = await TurnClient.open(ip, port);
    try {
      await c.binding(300);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`turnserver not answering STUN after 15 s:\n${server.logTail()}`);
    } finally {
      c.close();
    }
  }
}

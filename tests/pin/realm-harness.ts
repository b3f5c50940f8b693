// Test harness for the realm service: real SQLite files in temp dirs, real HTTP on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRealm, type Realm, type RealmOptions } from '../../src/host/realm/create-realm';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import type { RealmEndpoint } from '../../workers/engine/recovery/realm-client';
import { toBase64Url } from '../../src/lib/codec/base64url';
import type { RealmStorage } from '../../src/host/storage/realm-port';
import { TEST_ISSUER } from './support';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningRealm {
  name: string;
  dataDir: string;
  url: string;
  endpoint: RealmEndpoint;
  realm: Realm;
  close(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `parley-${prefix}-`));
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startRealm(name: string, opts: Partial<RealmOptions> & { dataDir?: string; storage?: RealmStorage } = {}): Promise<RunningRealm> {
  const dataDir = opts.dataDir ?? tempDir(`realm-${name}`);
  const realm = createRealm({ issuers: [TEST_ISSUER.publicKey], ...opts, id: name, dataDir });
  const server = createServer((req, res) => {
    void realm.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  const port = await listen(server);
  const url = `http://127.0.0.1:${port}/realm/`;
  return {
    name,
    dataDir,
    url,
    endpoint: { id: realmIdFromName(name), url },
    realm,
    async close() {
      await closeServer(server);
      realm.close();
    }
  };
}

/** Three realms a, b, c with their own data dirs; `cleanup` closes and removes them. */
export async function startRealms(n = 3, opts: Partial<RealmOptions> = {}): Promise<{ realms: RunningRealm[]; cleanup(): Promise<void> }> {
  const realms = await Promise.all(Array.from({ length: n }, (_, i) => startRealm(`realm-${'abcdefgh'[i]}`, opts)));
  return {
    realms,
    async cleanup() {
      for (const r of realms) {
        await r.close();
        rmSync(r.dataDir, { recursive: true, force: true });
      }
    }
  };
}

/** The standalone realm (src/host/realm/main.ts) in a child process. */
export async function spawnRealmProcess(name: string, dataDir: string, env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const args = ['--import', 'tsx', 'src/host/realm/main.ts', '--port', '0', '--data', dataDir, '--id', name, '--issuer', toBase64Url(TEST_ISSUER.publicKey)];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`realm process exited ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })
  };
}

/**
 * An HTTP proxy in front of a realm that may rewrite the realm's response bytes (a corrupt or
 * hostile realm, P25). `mutate` gets the request and response bodies and returns what to send.
 */
export async function startProxy(target: string, mutate: (request: Uint8Array, response: Uint8Array) => Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const up = httpRequest({ host: t.hostname, port: t.port, path: t.pathname, method: req.method, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } }, (upRes) => {
        const parts: Buffer[] = [];
        upRes.on('data', (c: Buffer) => parts.push(c));
        upRes.on('end', () => {
          const out = mutate(new Uint8Array(body), new Uint8Array(Buffer.concat(parts)));
          res.writeHead(upRes.statusCode ?? 200, { 'content-type': 'application/octet-stream', 'content-length': out.length });
          res.end(out);
        });
      });
      up.end(body);
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}${t.pathname}`, close: () => closeServer(server) };
}

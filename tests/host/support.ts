/**
 * Host test kit: a real host on a temp SQLite file at 127.0.0.1:0, a tiny HTTP client, a user
 * factory that generates real identity and prekeys, and a WebSocket client speaking the binary
 * frames. Nothing here is mocked: every call crosses a real socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach } from 'vitest';
import WebSocket from 'ws';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic, type IdentityKeyPair } from '../../src/lib/crypto/identity';
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  oneTimePreKeyPublic,
  signedPreKeyPublic
} from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { toBase64Url } from '../../src/lib/codec/base64url';
import {
  API,
  decodeChallengeResponse,
  decodeTokenResponse,
  encodeLoginRequest,
  encodeRegisterRequest,
  hostAuthMessage,
  type RegisterRequest
} from '../../src/lib/wire/host-api';
import { decodeHostFrame, encodeClientFrame, type HostFrame } from '../../src/lib/wire/host-frames';
import { createHost, type HostOptions, type RunningHost } from '../../src/host/server';

const created: string[] = [];
// Temp data dirs outlive each test (restart tests reopen them) and go after the test file.
afterAll(() => {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'parley-host-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/**
 * The name key (README "Usernames at rest") every test host on a shared PostgreSQL gets, in
 * process or spawned, as one deployment's instances must share one; SQLite hosts make their own.
 */
export const SHARED_NAME_KEY = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 255);

export { hostNames } from '../support/host-names';

export async function startHost(opts: Partial<HostOptions> = {}): Promise<RunningHost & { dataDir: string }> {
  const dataDir = opts.dataDir ?? tempDir();
  const host = await createHost({ port: 0, ...(opts.databaseUrl ? { nameKey: SHARED_NAME_KEY } : {}), ...opts, dataDir });
  return { ...host, dataDir, close: host.close, sweep: host.sweep };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/**
 * The real host as its own process (`node --import tsx src/host/main.ts`), for tests that kill
 * it or that must see it survive; killed after the test if still running.
 */
export async function spawnHost(dataDir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/host/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, PARLEY_QUIET: '1', ...(env.DATABASE_URL ? { NAME_KEY: toBase64Url(SHARED_NAME_KEY) } : {}), ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`host exited early with ${code}`)));
  });
  return { child, url, port: Number(new URL(url).port) };
}

export interface Reply {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export async function call(
  url: string,
  path: string,
  o: { method?: string; token?: Uint8Array; json?: unknown; body?: Uint8Array; rawJson?: string } = {}
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${toBase64Url(o.token)}`;
  let body: BodyInit | undefined;
  if (o.json !== undefined || o.rawJson !== undefined) {
    headers['content-type'] = 'application/json';
    body = o.rawJson ?? JSON.stringify(o.json);
  } else if (o.body) {
    headers['content-type'] = 'application/octet-stream';
    body = new Uint8Array(o.body);
  }
  const res = await fetch(url + path, { method: o.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export async function challenge(url: string): Promise<Uint8Array> {
  const r = await call(url, API.challenge);
  return decodeChallengeResponse(r.json).challenge;
}

export interface TestUser {
  username: string;
  identity: IdentityKeyPair;
  token: Uint8Array;
}

export function registration(username: string, identity: IdentityKeyPair, ch: Uint8Array, o: { oneTime?: number; kem?: number; deps?: Deps } = {}): RegisterRequest {
  const deps = o.deps ?? systemDeps;
  const kem = [kemPreKeyPublic(generateKemPreKey(identity, 1, true, deps))];
  for (let i = 0; i < (o.kem ?? 2); i++) kem.push(kemPreKeyPublic(generateKemPreKey(identity, 2 + i, false, deps)));
  return {
    username,
    challenge: ch,
    signature: ed25519Sign(identity.signing.privateKey, hostAuthMessage(ch, username)),
    identity: identityPublic(identity),
    signedPreKey: signedPreKeyPublic(generateSignedPreKey(identity, 1, deps)),
    oneTimePreKeys: generateOneTimePreKeys(1, o.oneTime ?? 3, deps).map(oneTimePreKeyPublic),
    kemPreKeys: kem
  };
}

export async function registerUser(url: string, username: string, o: { oneTime?: number; kem?: number } = {}): Promise<TestUser> {
  const identity = generateIdentity(systemDeps);
  const r = await call(url, API.accounts, { json: encodeRegisterRequest(registration(username, identity, await challenge(url), o)) });
  if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${JSON.stringify(r.json)}`);
  return { username, identity, token: decodeTokenResponse(r.json).token };
}

export async function login(url: string, username: string, identity: IdentityKeyPair): Promise<Reply> {
  const ch = await challenge(url);
  const signature = ed25519Sign(identity.signing.privateKey, hostAuthMessage(ch, username));
  return call(url, API.login, { json: encodeLoginRequest({ username, challenge: ch, signature }) });
}

/** A WebSocket client that records every host frame and can wait for them. */
export class WsClient {
  readonly frames: HostFrame[] = [];
  private waiters: (() => void)[] = [];
  private reqId = 1;
  closed = false;
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeHostFrame(new Uint8Array(data)));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string, token?: Uint8Array): Promise<WsClient> {
    const ws = new WebSocket(url.replace('http', 'ws') + API.ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const c = new WsClient(ws);
    if (token) {
      ws.send(encodeClientFrame({ type: 'auth', token }));
      await c.waitFor((f) => f.type === 'ready');
    }
    return c;
  }

  /** Resolves with the first recorded frame matching `pred` (already received or future). */
  async waitFor<T extends HostFrame>(pred: (f: HostFrame) => f is T, timeoutMs?: number): Promise<T>;
  async waitFor(pred: (f: HostFrame) => boolean, timeoutMs?: number): Promise<HostFrame>;
  async waitFor(pred: (f: HostFrame) => boolean, timeoutMs = 10_000): Promise<HostFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.closed) throw new Error('socket closed while waiting');
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  envelopes(): Extract<HostFrame, { type: 'envelope' }>[] {
    return this.frames.filter((f): f is Extract<HostFrame, { type: 'envelope' }> => f.type === 'envelope');
  }

  async until(n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.envelopes().length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.envelopes().length} of ${n} envelopes`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends and resolves with the Stored or Error reply for this request. */
  async send(to: string, body: Uint8Array): Promise<HostFrame> {
    const reqId = this.reqId++;
    this.ws.send(encodeClientFrame({ type: 'send', reqId, to, body }));
    return this.waitFor((f) => (f.type === 'stored' || f.type === 'error') && f.reqId === reqId);
  }

  ack(ids: number[]): void {
    this.ws.send(encodeClientFrame({ type: 'ack', ids }));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((r) => this.ws.once('close', () => r()));
    this.ws.close();
    await done;
  }
}

export const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
export const textOf = (b: Uint8Array): string => new TextDecoder().decode(b);

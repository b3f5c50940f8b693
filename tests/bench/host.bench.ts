/**
 * Host benchmark: N connected WebSocket clients on loopback, each sending envelopes to
 * random others (one outstanding send per client, closed loop) and acking what it receives.
 * Measures envelopes/s and send -> 'stored' latency p50/p99 for
 *   parley: the real host (child process, SQLite WAL synchronous=FULL, every envelope committed
 *           before its 'stored' reply), and
 *   rawWs:  a bare `ws` relay in a child process that answers 'stored' at once and forwards,
 *           with no storage, writing like the host (one corked write per socket per tick), so
 *           it is a ceiling.
 *   postgres: two host instances (child processes) on one PostgreSQL (a throwaway cluster from
 *           the Debian package, fsync on: tests/support/postgres.ts), clients split between them,
 *           so half the envelopes cross instances by LISTEN/NOTIFY. Skipped with --no-postgres.
 * The load generator runs in its own child process so it never shares the server's event loop.
 *
 *   npm run bench:host -- [--clients 1000] [--seconds 5] [--size 512] [--json]
 * Each system runs two phases: saturation (closed loop: envelopes/s) and paced at half the raw
 * relay's saturation rate (open loop: p50/p99 from each send's scheduled time to 'stored',
 * requests unanswered at the end counted at their age; see loadMain). With --json the last line is
 * {"parley":{envelopesPerSec,p50Ms,p99Ms,clients},"rawWs":{...},"postgres":{...,"instances":2}}:
 * envelopes/s from saturation, latencies from the paced phase; every saturation round's figure
 * is printed too (the spread).
 * Each phase line also shows the load generator's CPU and the machine's OTHER load (cores busy
 * outside server and generator, from /proc/stat): on a shared 2-core machine a phase that ran
 * beside a busy neighbour is visible as such instead of passing for a slow server.
 * PARLEY_BENCH_PROFILE=dir writes a V8 CPU profile of the host process (its --cpu-prof) there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { generateKemPreKey, generateSignedPreKey, kemPreKeyPublic, signedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { ed25519Sign } from '../../src/lib/crypto/primitives';
import { initSodium } from '../../src/lib/crypto/sodium';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { API, decodeChallengeResponse, decodeTokenResponse, encodeRegisterRequest, hostAuthMessage } from '../../src/lib/wire/host-api';
import { decodeClientFrame, decodeHostFrame, encodeClientFrame, encodeHostFrame, type HostFrame } from '../../src/lib/wire/host-frames';
import { startPostgres, type PgCluster } from '../support/postgres';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const str = (name: string): string => args[args.indexOf(`--${name}`) + 1] ?? '';

interface User { username: string; token: string }
interface Result {
  envelopesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  clients: number;
  /** Requests of the measured window still unanswered at its end (counted in p50/p99 at their age then). */
  unanswered?: number;
  instances?: number;
}

/** Every child this process started: killed when it exits, even on a failure, so no host outlives a run. */
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function child(argv: string[], env: Record<string, string> = {}): { proc: ChildProcess; line: (re: RegExp) => Promise<string> } {
  const proc = spawn(process.execPath, [...argv.filter((a) => a.startsWith('--cpu-prof')), '--import', 'tsx', ...argv.filter((a) => !a.startsWith('--cpu-prof'))], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  let out = '';
  const waiters: (() => void)[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const line = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m) resolve(m[1]!);
        else if (proc.exitCode !== null) reject(new Error(`${argv.join(' ')} exited with ${proc.exitCode}`));
        else waiters.push(check);
      };
      proc.once('exit', () => check());
      check();
    });
  return { proc, line };
}

const stop = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null ? r() : (p.once('exit', () => r()), p.kill('SIGTERM'))));

async function registerAll(url: string, n: number): Promise<User[]> {
  const users: User[] = [];
  const one = async (i: number) => {
    const username = `bench_${i}`;
    const id = generateIdentity(systemDeps);
    const ch = decodeChallengeResponse(await (await fetch(url + API.challenge)).json()).challenge;
    const body = encodeRegisterRequest({
      username, challenge: ch, signature: ed25519Sign(id.signing.privateKey, hostAuthMessage(ch, username)),
      identity: identityPublic(id), signedPreKey: signedPreKeyPublic(generateSignedPreKey(id, 1, systemDeps)),
      oneTimePreKeys: [], kemPreKeys: [kemPreKeyPublic(generateKemPreKey(id, 1, true, systemDeps))]
    });
    const res = await fetch(url + API.accounts, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`register ${username}: ${res.status}`);
    users[i] = { username, token: toBase64Url(decodeTokenResponse(await res.json()).token) };
  };
  // A keep-alive connection the host closes just as fetch reuses it is a network error, not a
  // refusal: on a loaded machine that happens during 1,000 registrations, so such a one is retried.
  const retried = async (i: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await one(i);
      } catch (e) {
        if (attempt >= 4 || !(e instanceof TypeError)) throw e;
      }
    }
  };
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => retried(i + k)));
  return users;
}

/** CPU seconds (user + system + irq + steal) the whole machine has used so far (Linux; NaN elsewhere). */
function machineSeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

type Phase = Result & { serverCpu: number; genCpu: number; otherCpu: number };

/**
 * One load phase; also reports the server's and the generator's CPU share, to show which one
 * limits, and the rest of the machine's load (other processes competing for the cores).
 */
async function runLoad(url: string, usersFile: string, seconds: number, size: number, serverPids: number | undefined | (number | undefined)[], rate = 0): Promise<Phase> {
  const pids = Array.isArray(serverPids) ? serverPids : [serverPids];
  const serverSeconds = () => pids.reduce((t: number, p) => t + cpuSeconds(p), 0);
  const gen = child([SELF, '--load', '--url', url, '--users', usersFile, '--seconds', String(seconds), '--size', String(size), '--rate', String(rate), '--window', String(opt('window', 4))]);
  const cpu0 = serverSeconds();
  const gen0 = cpuSeconds(gen.proc.pid);
  const all0 = machineSeconds();
  const t0 = performance.now();
  const json = await gen.line(/^RESULT (.+)$/m);
  const elapsed = (performance.now() - t0) / 1000;
  const serverCpu = (serverSeconds() - cpu0) / elapsed;
  const genCpu = (cpuSeconds(gen.proc.pid) - gen0) / elapsed;
  const otherCpu = Math.max(0, (machineSeconds() - all0) / elapsed - serverCpu - genCpu);
  await stop(gen.proc);
  return { ...(JSON.parse(json) as Result), serverCpu, genCpu, otherCpu };
}

async function orchestrate(): Promise<void> {
  await initSodium();
  const clients = opt('clients', 1000);
  const seconds = opt('seconds', 5);
  const size = opt('size', 512);
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const usersFile = join(dir, 'users.json');
  const limits = JSON.stringify({ perIp: { max: 1e9, windowMs: 60_000 }, registerPerIp: { max: 1e9, windowMs: 60_000 } });
  const profile = process.env.PARLEY_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PARLEY_BENCH_PROFILE}`] : [];
  const host = child([...profile, 'src/host/main.ts'], { PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), PARLEY_QUIET: process.env.PARLEY_BENCH_LOG === '1' ? '0' : '1', PARLEY_LIMITS: limits });
  const hostUrl = await host.line(/listening on (http:\/\/\S+)/);
  writeFileSync(usersFile, JSON.stringify(await registerAll(hostUrl, clients)));

  const relay = child([SELF, '--relay', '--users', usersFile]);
  const relayUrl = await relay.line(/relay listening on (http:\/\/\S+)/);

  // Two instances on one PostgreSQL; clients alternate between them (--url a,b).
  let cluster: PgCluster | undefined;
  let pgHosts: ReturnType<typeof child>[] = [];
  let pgUrl = '';
  const pgUsersFile = join(dir, 'pg-users.json');
  if (!args.includes('--no-postgres')) {
    cluster = await startPostgres({ fsync: true, settings: { max_connections: 100 } });
    const databaseUrl = await cluster.createDatabase('bench');
    // One deployment: both instances share the name key (README "Usernames at rest").
    const nameKey = randomBytes(32).toString('base64url');
    pgHosts = [0, 1].map((i) => child(['src/host/main.ts'], { PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, `pg-data-${i}`), DATABASE_URL: databaseUrl, NAME_KEY: nameKey, PARLEY_QUIET: '1', PARLEY_LIMITS: limits }));
    const urls = [];
    for (const h of pgHosts) urls.push(await h.line(/listening on (http:\/\/\S+)/));
    writeFileSync(pgUsersFile, JSON.stringify(await registerAll(urls[0]!, clients)));
    pgUrl = urls.join(',');
  }
  const pgPids = pgHosts.map((h) => h.proc.pid);
  // Saturation runs alternate between the two servers and keep each one's best round: on a
  // shared machine, interference only ever lowers throughput, so the best round is the least
  // disturbed one, and alternating exposes both to the same background.
  const rounds = opt('rounds', 2);
  const best = (a: Phase | undefined, b: Phase) => (!a || b.envelopesPerSec > a.envelopesPerSec ? b : a);
  let rawSat: Phase | undefined;
  let parleySat: Phase | undefined;
  let pgSat: Phase | undefined;
  const spread: Record<string, number[]> = { rawWs: [], parley: [], postgres: [] };
  for (let r = 0; r < rounds; r++) {
    const raw = await runLoad(relayUrl, usersFile, seconds, size, relay.proc.pid);
    spread.rawWs!.push(raw.envelopesPerSec);
    rawSat = best(rawSat, raw);
    const sq = await runLoad(hostUrl, usersFile, seconds, size, host.proc.pid);
    spread.parley!.push(sq.envelopesPerSec);
    parleySat = best(parleySat, sq);
    if (pgUrl) {
      const pgr = await runLoad(pgUrl, pgUsersFile, seconds, size, pgPids);
      spread.postgres!.push(pgr.envelopesPerSec);
      pgSat = best(pgSat, pgr);
    }
  }
  // Latency is measured at one fixed offered load for both: half the raw ceiling, the throughput
  // the target asks Parley to reach. (At saturation every p99 is a queueing artefact:
  // ~outstanding / throughput, even for the bare relay.)
  const paceRate = Math.round(rawSat!.envelopesPerSec / 2);
  const rawPaced = await runLoad(relayUrl, usersFile, seconds, size, relay.proc.pid, paceRate);
  const parleyPaced = await runLoad(hostUrl, usersFile, seconds, size, host.proc.pid, paceRate);
  // PostgreSQL's latency, likewise, at the throughput its target asks of it: half the SQLite
  // host's. (Paced at the relay's half instead, above what two instances on these two cores
  // sustain, its p99 only measured the queue that rate builds in 5 s.)
  const pgPaceRate = Math.round(parleySat!.envelopesPerSec / 2);
  const pgPaced = pgUrl ? await runLoad(pgUrl, pgUsersFile, seconds, size, pgPids, pgPaceRate) : undefined;
  await stop(relay.proc);
  await stop(host.proc);
  for (const h of pgHosts) await stop(h.proc);
  await cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });

  const parley: Result = { envelopesPerSec: parleySat!.envelopesPerSec, p50Ms: parleyPaced.p50Ms, p99Ms: parleyPaced.p99Ms, clients };
  const rawWs: Result = { envelopesPerSec: rawSat!.envelopesPerSec, p50Ms: rawPaced.p50Ms, p99Ms: rawPaced.p99Ms, clients };
  const fmt = (r: Phase) =>
    `${r.envelopesPerSec} envelopes/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (${r.unanswered ?? 0} unanswered at the end), server CPU ${(100 * r.serverCpu).toFixed(0)}% ` +
    `(${((1e6 * r.serverCpu) / r.envelopesPerSec).toFixed(0)} us/envelope); generator ${(100 * r.genCpu).toFixed(0)}%, ` +
    `other load ${(100 * r.otherCpu).toFixed(0)}%`;
  console.log(`${clients} clients, ${size}-byte envelopes, ${seconds} s per phase, best of ${rounds} saturation rounds`);
  console.log(`saturation parley (durable): ${fmt(parleySat!)}`);
  console.log(`saturation raw ws relay:     ${fmt(rawSat!)}`);
  console.log(`paced ${paceRate}/s parley:      ${fmt(parleyPaced)}`);
  console.log(`paced ${paceRate}/s raw ws:      ${fmt(rawPaced)}`);
  if (pgSat && pgPaced) {
    console.log(`saturation postgres x2:      ${fmt(pgSat)} (server CPU = both instances; PostgreSQL's own shows as other load)`);
    console.log(`paced ${pgPaceRate}/s postgres x2: ${fmt(pgPaced)}`);
  }
  console.log(`saturation rounds (envelopes/s): ${Object.entries(spread).filter(([, v]) => v.length > 0).map(([k, v]) => `${k} [${v.join(', ')}]`).join('; ')}`);
  console.log(`throughput ratio ${(parley.envelopesPerSec / rawWs.envelopesPerSec).toFixed(2)} (target >= 0.5); parley p99 ${parley.p99Ms} ms at ${paceRate}/s (target <= 50)`);
  const postgres: Result | undefined =
    pgSat && pgPaced ? { envelopesPerSec: pgSat.envelopesPerSec, p50Ms: pgPaced.p50Ms, p99Ms: pgPaced.p99Ms, clients, instances: 2 } : undefined;
  if (postgres) console.log(`postgres x2 / sqlite throughput ${(postgres.envelopesPerSec / parley.envelopesPerSec).toFixed(2)} (target >= 0.5); postgres p99 ${postgres.p99Ms} ms at ${pgPaceRate}/s (target <= 100)`);
  if (args.includes('--json')) console.log(JSON.stringify({ parley, rawWs, ...(postgres ? { postgres } : {}) }));
}

/**
 * Bare relay: Auth maps a token to its user, Send is answered 'stored' at once and forwarded.
 * It writes the way the host does (ws.ts): every socket is corked on its first frame of a tick
 * and uncorked on the next, so one tick's frames leave in one write, and frames are encoded into
 * Node's pooled slabs. Without that the baseline paid a syscall per frame the host does not pay,
 * and was no ceiling.
 */
function relayMain(): void {
  const byToken = new Map((JSON.parse(readFileSync(str('users'), 'utf8')) as User[]).map((u) => [u.token, u.username]));
  const conns = new Map<string, WebSocket>();
  let nextId = 1;
  const corked = new Set<Duplex>();
  const uncorkAll = () => {
    for (const s of corked) s.uncork();
    corked.clear();
  };
  const send = (ws: WebSocket, f: HostFrame) => {
    if (ws.readyState !== ws.OPEN) return;
    const socket = (ws as unknown as { _socket?: Duplex })._socket;
    if (socket && !corked.has(socket)) {
      socket.cork();
      corked.add(socket);
      if (corked.size === 1) setImmediate(uncorkAll);
    }
    ws.send(encodeHostFrame(f, Buffer.allocUnsafe), { binary: true });
  };
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    let me: string | undefined;
    ws.on('message', (data: Buffer) => {
      const f = decodeClientFrame(new Uint8Array(data.buffer, data.byteOffset, data.length));
      if (f.type === 'auth') {
        me = byToken.get(toBase64Url(f.token));
        if (!me) return void ws.close(4401);
        conns.set(me, ws);
        send(ws, { type: 'ready' });
      } else if (f.type === 'send' && me) {
        const id = nextId++;
        const receivedAt = Date.now();
        send(ws, { type: 'stored', reqId: f.reqId, serverId: id, receivedAt });
        const to = conns.get(f.to);
        if (to) send(to, { type: 'envelope', serverId: id, receivedAt, sender: me, body: f.body });
      }
    });
  });
  wss.on('listening', () => console.log(`relay listening on http://127.0.0.1:${(wss.address() as { port: number }).port}`));
}

/**
 * Load generator. Saturation mode (no --rate): `--window` (default 4) outstanding sends per client,
 * closed loop (a window above 1 keeps server and generator from running in lockstep), so
 * envelopes/s is the server's capacity (latency there is ~clients/throughput by Little's law).
 * Paced mode (--rate R): every client has a fixed schedule (a random phase, then one send per
 * interval) so the total offered load is R/s, open loop: a send whose time came while the
 * generator was busy still goes out, and its latency counts from its SCHEDULED time, not from when
 * it finally left (else a stalled server would also stall the clock that measures it).
 * Latency samples are the requests scheduled inside the measured window; those still unanswered
 * when it closes count with their age at that moment, so a server that stops answering shows as
 * slow instead of vanishing from the percentiles. Acks are batched per tick.
 */
async function loadMain(): Promise<void> {
  const users = JSON.parse(readFileSync(str('users'), 'utf8')) as User[];
  const urls = str('url').split(',').map((u) => u.replace('http', 'ws') + API.ws);
  const seconds = opt('seconds', 5);
  const rate = opt('rate', 0);
  const window = opt('window', 1);
  const body = new Uint8Array(opt('size', 512)).fill(0x5a);
  const latencies: number[] = [];
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let running = true;
  let count = 0;
  const starters: (() => void)[] = [];
  const stops: (() => void)[] = [];
  const sockets: WebSocket[] = [];
  // Per socket: reqId -> scheduled time of every request not yet answered.
  const pending: Map<number, number>[] = [];
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;

  const connect = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(urls[i % urls.length]!, { perMessageDeflate: false });
      sockets.push(ws);
      const outstanding = new Map<number, number>();
      pending.push(outstanding);
      let reqId = 0;
      let acks: number[] = [];
      const sendOne = (scheduled = performance.now()) => {
        if (!running || ws.readyState !== ws.OPEN) return;
        let to = Math.floor(Math.random() * (users.length - 1));
        if (to >= i) to++;
        outstanding.set(++reqId, scheduled);
        ws.send(encodeClientFrame({ type: 'send', reqId, to: users[to]!.username, body }));
      };
      ws.on('message', (data: Buffer) => {
        const f = decodeHostFrame(new Uint8Array(data.buffer, data.byteOffset, data.length));
        if (f.type === 'ready') resolve();
        else if (f.type === 'stored') {
          const now = performance.now();
          const t0 = outstanding.get(f.reqId);
          outstanding.delete(f.reqId);
          if (inWindow(now)) count++;
          if (t0 !== undefined && inWindow(t0)) latencies.push(now - t0);
          if (rate === 0 && running) sendOne();
        } else if (f.type === 'envelope') {
          if (acks.length === 0) setImmediate(() => { ws.send(encodeClientFrame({ type: 'ack', ids: acks })); acks = []; });
          acks.push(f.serverId);
        } else if (f.type === 'error') reject(new Error(`host error ${f.code}: ${f.message}`));
      });
      ws.once('open', () => ws.send(encodeClientFrame({ type: 'auth', token: fromBase64Url(users[i]!.token, 32) })));
      ws.once('error', reject);
      starters.push(() => {
        if (rate === 0) {
          for (let k = 0; k < window; k++) sendOne();
          return;
        }
        const interval = (1000 * users.length) / rate;
        let due = performance.now() + Math.random() * interval;
        let timer: NodeJS.Timeout;
        const tick = () => {
          // Everything whose time has come goes now, each stamped with its own scheduled time.
          for (let now = performance.now(); due <= now && running; due += interval) sendOne(due);
          if (running) timer = setTimeout(tick, Math.max(0, due - performance.now()));
        };
        timer = setTimeout(tick, due - performance.now());
        stops.push(() => clearTimeout(timer));
      });
    });

  for (let i = 0; i < users.length; i += 100) await Promise.all(Array.from({ length: Math.min(100, users.length - i) }, (_, k) => connect(i + k)));
  for (const start of starters) start();
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  windowStart = performance.now();
  windowEnd = windowStart + seconds * 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - performance.now())));
  const end = performance.now();
  const elapsed = (end - windowStart) / 1000;
  running = false;
  for (const stop of stops) stop();
  let unanswered = 0;
  for (const m of pending) {
    for (const t0 of m.values()) {
      if (!inWindow(t0)) continue;
      latencies.push(end - t0);
      unanswered++;
    }
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const result: Result = { envelopesPerSec: Math.round(count / elapsed), p50Ms: +q(0.5).toFixed(2), p99Ms: +q(0.99).toFixed(2), clients: users.length, unanswered };
  console.log(`RESULT ${JSON.stringify(result)}`);
  for (const ws of sockets) ws.terminate();
}

if (args.includes('--relay')) relayMain();
else if (args.includes('--load')) await loadMain();
else await orchestrate();

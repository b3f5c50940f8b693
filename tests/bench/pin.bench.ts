/**
 * PIN registration and recovery against 3 standalone realms (threshold 2) over real HTTP on
 * loopback, with the pinned Argon2id cost (src/lib/crypto/pin/stretch.ts).
 *
 *   node --import tsx tests/bench/pin.bench.ts [--json] [--runs=N]
 *
 * Each realm is `src/host/realm/main.ts` in its own child process with its own SQLite file.
 * Every run registers a fresh user and recovers it; the recovered master secret is checked.
 * Reports medians. With --json the last stdout line is exactly
 * {"parley":{"registerMs":N,"recoverMs":N,"realms":3,"threshold":2}}. Target: recover <= 2000 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { systemDeps } from '../../src/lib/crypto/deps';
import { initSodium } from '../../src/lib/crypto/sodium';
import { realmIdFromName, realmUserId } from '../../src/lib/crypto/pin/realm-auth';
import { issueRealmToken } from '../../src/lib/crypto/pin/realm-token';
import { ed25519KeyPair } from '../../src/lib/crypto/primitives';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { PIN_ARGON2 } from '../../src/lib/crypto/pin/stretch';
import { recoverWithPin, registerPin } from '../../workers/engine/recovery/recovery';
import type { RealmEndpoint } from '../../workers/engine/recovery/realm-client';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REALMS = 3;
const THRESHOLD = 2;
const TARGET_RECOVER_MS = 2000;
const json = process.argv.includes('--json');
const runsArg = process.argv.find((a) => a.startsWith('--runs='));
const RUNS = runsArg ? Number(runsArg.slice('--runs='.length)) : 7;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got ${runsArg}`);
const log = (s = '') => console.log(s);


function startRealm(issuer: { publicKey: Uint8Array }, name: string, dataDir: string): Promise<{ child: ChildProcess; endpoint: RealmEndpoint }> {
  const args = ['--import', 'tsx', 'src/host/realm/main.ts', '--port', '0', '--data', dataDir, '--id', name, '--issuer', toBase64Url(issuer.publicKey)];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, endpoint: { id: realmIdFromName(name), url: m[1]! } });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`realm ${name} exited with ${code}: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

await initSodium();
/** Plays the app host's part (P38): issues the registration tokens the realms require. */
const issuer = ed25519KeyPair(systemDeps);
const dirs = Array.from({ length: REALMS }, (_, i) => mkdtempSync(join(tmpdir(), `parley-bench-realm-${i}-`)));
const realms = await Promise.all(dirs.map((d, i) => startRealm(issuer, `bench-realm-${i}`, d)));
const endpoints = realms.map((r) => r.endpoint);

try {
  log(`PIN benchmark: ${REALMS} realms (child processes), threshold ${THRESHOLD}, Argon2id ${PIN_ARGON2.memlimitBytes / 2 ** 20} MiB x ${PIN_ARGON2.opslimit} passes, ${RUNS} runs + 1 warm-up`);
  const register: number[] = [];
  const recover: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const base = { username: `bench_${run}_${Date.now() % 100000}`, realms: endpoints, threshold: THRESHOLD };
    const pin = '4826-1379';
    const t0 = performance.now();
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const tokens = endpoints.map((e) => issueRealmToken(issuer.privateKey, { realmId: e.id, userId: realmUserId(base.username), expiresAt }));
    const secret = await registerPin({ ...base, pin, tokens }, systemDeps, fetch);
    const t1 = performance.now();
    const out = await recoverWithPin({ ...base, pin }, systemDeps, fetch);
    const t2 = performance.now();
    if (!('ok' in out) || out.ok.some((b, i) => b !== secret[i])) throw new Error(`run ${run}: recovery failed: ${JSON.stringify(out)}`);
    if (run === 0) continue; // warm-up
    register.push(t1 - t0);
    recover.push(t2 - t1);
    log(`  run ${run}: register ${(t1 - t0).toFixed(0)} ms, recover ${(t2 - t1).toFixed(0)} ms`);
  }
  const registerMs = Math.round(median(register));
  const recoverMs = Math.round(median(recover));
  log(`median register ${registerMs} ms, median recover ${recoverMs} ms (target recover <= ${TARGET_RECOVER_MS} ms: ${recoverMs <= TARGET_RECOVER_MS ? 'met' : 'MISSED'})`);
  if (json) log(JSON.stringify({ parley: { registerMs, recoverMs, realms: REALMS, threshold: THRESHOLD } }));
} finally {
  await Promise.all(realms.map((r) => stop(r.child)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

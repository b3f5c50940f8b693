/**
 * The README's compose-style deployment ("Several host instances": host ×2 + PostgreSQL + 3 realms
 * + coturn) as local processes, since this machine has no container runtime: PostgreSQL from the
 * Debian package (tests/support/postgres.ts), coturn from its package (tests/support/coturn.ts),
 * two `src/host/main.ts` processes on one database with the environment the compose file gives
 * them (DATABASE_URL, DATA_DIR, APP_ORIGIN, TURN_URLS, TURN_SECRET), and three
 * `src/host/realm/main.ts` processes (what `npm run realm` runs), each on a database of its own
 * (REALM_DATABASE_URL) trusting the hosts' realm-token key through PARLEY_REALM_ISSUERS, read from
 * host A's DATA_DIR/realm-issuer.pub as the README tells operators to.
 *
 * Smoke check across the topology: register on A and on B, a message from A's client reaches B's
 * live, B's TURN credentials allocate on coturn (P29), and a PIN set up with realm tokens from
 * B across the three realms recovers the same secret with one realm down (P38, threshold 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { ICE_PATH } from '../../src/host/calls';
import { ISSUER_PUBLIC_FILE } from '../../src/host/account-record';
import { systemDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';
import { REALM_TOKEN_LEN } from '../../src/lib/crypto/pin/realm-token';
import { ACCOUNT_RECORD_PATH, decodeRealmTokenResponse, encodeRealmTokenRequest } from '../../src/lib/wire/account-record-api';
import { recoverWithPin, registerPin } from '../../workers/engine/recovery/recovery';
import { startCoturn, type Coturn } from '../support/coturn';
import { startPostgres, type PgCluster } from '../support/postgres';
import { TurnClient } from '../support/turn-client';
import { fastStretch } from '../pin/support';
import { WsClient, bytesOf, call, registerUser, spawnHost, tempDir, textOf } from './support';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP_ORIGIN = 'https://parley.example';
let cluster: PgCluster | undefined;
let turn: Coturn | undefined;
const realms: ChildProcess[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  for (const r of realms) if (r.exitCode === null) r.kill('SIGTERM');
  await turn?.stop();
  await cluster?.destroy();
}, 60_000);

/** `node --import tsx src/host/realm/main.ts …` as the compose file's realm services run it. */
function spawnRealm(id: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/host/realm/main.ts', '--host', '127.0.0.1', '--port', '0', '--data', tempDir('parley-realm-'), '--id', id, '--origin', APP_ORIGIN], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  realms.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`realm ${id} exited ${code}: ${err.slice(-500)}`)));
  });
}

test('P29 P38 the compose topology as local processes: register, message across instances, TURN on coturn, PIN over 3 realms', async () => {
  cluster = await startPostgres({ fsync: false });
  turn = await startCoturn();
  const databaseUrl = await cluster.createDatabase('parley');
  const hostEnv = { DATABASE_URL: databaseUrl, APP_ORIGIN, TURN_URLS: turn.urls.join(','), TURN_SECRET: turn.secret, TURN_TTL: '600' };
  const dirA = tempDir();
  const a = await spawnHost(dirA, hostEnv);
  const b = await spawnHost(tempDir(), hostEnv);
  // The realm operators are given the hosts' token key (one per deployment, in the database).
  const issuer = readFileSync(join(dirA, ISSUER_PUBLIC_FILE), 'utf8').trim();
  const names = ['realm-a', 'realm-b', 'realm-c'];
  const realmDbs = await Promise.all(names.map((n) => cluster!.createDatabase(n.replace('-', '_'))));
  const procs = await Promise.all(names.map((n, i) => spawnRealm(n, { REALM_DATABASE_URL: realmDbs[i]!, PARLEY_REALM_ISSUERS: issuer })));

  // Register on A and on B; a message from A's client reaches B's live.
  const alice = await registerUser(a.url, 'alice');
  const bob = await registerUser(b.url, 'bob');
  const bobWs = await WsClient.open(b.url, bob.token);
  const aliceWs = await WsClient.open(a.url, alice.token);
  cleanups.push(() => bobWs.close(), () => aliceWs.close());
  expect((await aliceWs.send('bob', bytesOf('across the instances'))).type).toBe('stored');
  const got = await bobWs.waitFor((f) => f.type === 'envelope');
  expect(got.type === 'envelope' && textOf(got.body)).toBe('across the instances');

  // B's TURN credentials allocate a relay on coturn.
  const ice = await call(b.url, ICE_PATH, { token: bob.token });
  expect(ice.status).toBe(200);
  const server = (ice.json as { iceServers: { urls: string | string[]; username?: string; credential?: string }[] }).iceServers.find((s) => s.username !== undefined)!;
  expect([server.urls].flat()).toEqual(turn.urls);
  const tc = await TurnClient.open(turn.ip, turn.port);
  cleanups.push(() => tc.release());
  const allocation = await tc.allocate(server.username!, server.credential!);
  expect(allocation.ok).toBe(true);

  // PIN setup across the three realms with tokens issued through B, recovered with realm-b down.
  const endpoints = names.map((n, i) => ({ id: realmIdFromName(n), url: procs[i]!.url }));
  const tok = await fetch(`${b.url}${ACCOUNT_RECORD_PATH}alice/realm-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${toBase64Url(alice.token)}`, 'content-type': 'application/json' },
    body: JSON.stringify(encodeRealmTokenRequest(endpoints.map((e) => e.id)))
  });
  expect(tok.status).toBe(200);
  const tokens = decodeRealmTokenResponse(await tok.json(), 3, REALM_TOKEN_LEN);
  const secret = await registerPin({ username: 'alice', pin: '2580-71', realms: endpoints, threshold: 2, tokens }, systemDeps, fetch, { stretch: fastStretch });
  procs[1]!.child.kill('SIGTERM');
  const out = await recoverWithPin({ username: 'alice', pin: '2580-71', realms: endpoints, threshold: 2 }, systemDeps, fetch, { stretch: fastStretch });
  expect('ok' in out && out.ok).toEqual(secret);
}, 120_000);

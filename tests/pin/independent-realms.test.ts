/**
 * P38, both configurations in the engine: with 2-of-3 realms on three distinct origins (none the
 * app's) a short PIN is accepted; the browser then keeps no local PIN verifier (P37: it would be
 * an offline test on a stolen device), so the reminder checks with the realms and says when a
 * wrong entry used an attempt; a new browser restores with the PIN. The app host is the real host;
 * the realms are standalone realms that trust its registration tokens (its issuer key file).
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createHost, type RunningHost } from '../../src/host/server';
import { ISSUER_PUBLIC_FILE } from '../../src/host/account-record';
import { realmIndependence } from '../../src/lib/config/realms';
import { fromBase64Url } from '../../src/lib/codec/base64url';
import { systemDeps } from '../../src/lib/crypto/deps';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { getPinState } from '../../workers/storage/pin-repo';
import { REMINDER_INTERVALS_MS } from '../../workers/engine/pin/reminder';
import Database from 'better-sqlite3';
import { REALM_DB_FILE } from '../../src/host/realm/store';
import { startRealms } from './realm-harness';
import { fastStretch } from './support';

let now = Date.now();
const deps = { ...systemDeps, now: () => now };
const closers: (() => Promise<void>)[] = [];
/** Vault names are unique across tests: fake-indexeddb keeps every database for the whole file. */
let n = 0;
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function setUp() {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-indep-'));
  const host: RunningHost = await createHost({ port: 0, dataDir });
  closers.push(async () => {
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const issuer = fromBase64Url(readFileSync(join(dataDir, ISSUER_PUBLIC_FILE), 'utf8').trim(), 32);
  const set = await startRealms(3, { issuers: [issuer] });
  closers.push(set.cleanup);
  // 127.0.0.1 on three ports: three origins, none the host's.
  const realms = set.realms.map((r) => ({ ...r.endpoint, name: r.name }));
  const config = { threshold: 2, realms };
  const independent = realmIndependence(config, host.url).independent;
  const open = async (name: string) => {
    const e = await Engine.open({
      transport: new HostHttpTransport(host.url, WebSocket as unknown as WsCtor),
      dbName: `indep-${name}-${process.pid}-${n++}`,
      locks: memoryLocks(),
      recovery: { realms, threshold: 2, independent, fetch: globalThis.fetch, stretch: fastStretch },
      deps
    });
    closers.push(() => e.close());
    return e;
  };
  return { independent, open, set };
}

describe('P38 independent realms allow a short PIN', () => {
  test('P38 with 2-of-3 realms on distinct origins a short PIN is accepted, kept without a local verifier, and restores', async () => {
    const { independent, open } = await setUp();
    expect(independent).toBe(true);
    const alice = await open('alice');
    await alice.createAccount('alice');
    // The pattern rules still apply; the offline-search rule does not.
    await expect(alice.setupPin('1234')).rejects.toThrow(/sequence/);
    expect(await alice.setupPin('4829')).toMatchObject({ enabled: true, kind: 'pin', shortPinAllowed: true });
    const state = await getPinState(alice.ctx.vault);
    expect(state && 'keys' in state && state.verifier === undefined && state.localSalt === undefined).toBe(true);

    // The reminder asks the realms: a wrong PIN uses an attempt and says so, the right one resets.
    now += REMINDER_INTERVALS_MS[0]!;
    expect(await alice.checkPinReminder('5830')).toMatchObject({ correct: false, problem: { status: 'wrongPin', remaining: 9 } });
    expect(await alice.recoveryHealth()).toMatchObject({ wrongGuesses: 1, lost: [] });
    expect(await alice.checkPinReminder('4829')).toMatchObject({ correct: true });
    expect(await alice.recoveryHealth()).toMatchObject({ wrongGuesses: 0, failingSince: null });

    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', '4829')).toMatchObject({ status: 'restored', username: 'alice' });
  });

  test('P38 a realm that lost its share is reported, and entering the PIN re-registers every realm', async () => {
    const { open, set } = await setUp();
    const alice = await open('alice');
    await alice.createAccount('alice');
    await alice.setupPin('4829');
    // Realm c loses the user's row (a restore from an old backup, a wiped disk).
    const db = new Database(join(set.realms[2]!.dataDir, REALM_DB_FILE));
    db.prepare('DELETE FROM realm_users').run();
    db.close();
    expect(await alice.recoveryHealth()).toMatchObject({ lost: ['realm-c'], repairable: true });
    // The repair: the PIN recovers the master secret from a and b, and every realm is registered again
    // (c with a fresh registration token from the host).
    expect(await alice.changePin('4829', '4829')).toMatchObject({ status: 'changed' });
    expect(await alice.recoveryHealth()).toMatchObject({ lost: [], wrongGuesses: 0 });
    const fresh = await open('alice-new');
    expect(await fresh.restoreAccount('alice', '4829')).toMatchObject({ status: 'restored' });
  });

  test('P38 the same engine with realms that are not independent refuses the short PIN', async () => {
    const { open } = await setUp();
    const e = await open('probe');
    await e.createAccount('bob');
    // Same engine code, configuration as the default build: refused with the reason.
    const strict = await Engine.open({
      transport: e.ctx.transport,
      dbName: `indep-strict-${process.pid}`,
      locks: memoryLocks(),
      recovery: { ...e.ctx.recovery!, independent: false },
      deps
    });
    closers.push(() => strict.close());
    await strict.createAccount('carol');
    await expect(strict.setupPin('4829')).rejects.toThrow(/could try every short PIN offline/);
  });
});

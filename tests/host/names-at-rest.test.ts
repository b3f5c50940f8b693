/**
 * Usernames at rest (README "Usernames at rest"; issue "private discovery": the host stores no
 * username in clear). The seal itself, a real host whose every file is scanned for the names of
 * the people who used it, the upgrade of a database an older host wrote in clear (SQLite and
 * PostgreSQL), and the startup refusal when a database meets another name key.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { nameKeyFromEnv, nameKeyInDataDir, NAME_KEY_FILE } from '../../src/host/storage/name-key';
import { isSealedName, nameSeal, NameSealError } from '../../src/host/storage/name-seal';
import { bindNameKey, openHostStore, type StoreLocation } from '../../src/host/storage/open';
import { NameKeyMismatchError } from '../../src/host/storage/seal-stored-names';
import { toBase64Url } from '../../src/lib/codec/base64url';
import { API } from '../../src/lib/wire/host-api';
import { scanDataDir } from '../support/scan-data-dir';
import { sharedCluster } from './store-backends';
import { WsClient, call, registerUser, spawnHost, startHost, tempDir } from './support';
import { testAccount } from './test-account';

const KEY_A = new Uint8Array(32).fill(1);
const KEY_B = new Uint8Array(32).fill(2);
const key = (n: number, len = 32) => new Uint8Array(len).fill(n);

const account = testAccount;

let host: Awaited<ReturnType<typeof startHost>> | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

describe('the name seal', () => {
  const n = nameSeal(KEY_A);

  test('deterministic, one length for every name, opens back, and keyed', () => {
    const short = n.seal('abc');
    const long = n.seal('a'.repeat(32));
    expect(n.seal('abc')).toBe(short);
    expect(short.length).toBe(65);
    expect(long.length).toBe(65);
    expect(isSealedName(short)).toBe(true);
    expect(short).not.toContain('abc');
    expect(n.open(short)).toBe('abc');
    expect(n.open(long)).toBe('a'.repeat(32));
    expect(nameSeal(KEY_B).seal('abc')).not.toBe(short);
    expect(n.seal('')).toBe('');
    expect(n.open('')).toBe('');
  });

  test('refuses what it did not seal: a flipped character, another key, a clear name, a non-canonical name', () => {
    const s = n.seal('alice');
    const flipped = s.slice(0, 30) + (s[30] === 'A' ? 'B' : 'A') + s.slice(31);
    expect(() => nameSeal(KEY_A).open(flipped)).toThrow(NameSealError);
    expect(() => nameSeal(KEY_A).open(nameSeal(KEY_B).seal('alice'))).toThrow(NameSealError);
    expect(() => n.open('alice')).toThrow(NameSealError);
    expect(() => n.open('~' + 'A'.repeat(10))).toThrow(NameSealError);
    expect(() => n.seal('Alice')).toThrow(NameSealError);
    expect(() => nameSeal(new Uint8Array(16))).toThrow(NameSealError);
  });

  test('rate keys are keyed one-way hashes that do not carry the name', () => {
    expect(n.rateKey('bundle:alice')).toBe(n.rateKey('bundle:alice'));
    expect(n.rateKey('bundle:alice')).not.toBe(n.rateKey('bundle:bob'));
    expect(n.rateKey('bundle:alice')).not.toContain('alice');
    expect(nameSeal(KEY_B).rateKey('bundle:alice')).not.toBe(n.rateKey('bundle:alice'));
  });

  test('the key: NAME_KEY, NAME_KEY_FILE, else a 0600 file in DATA_DIR made once and kept', () => {
    expect(nameKeyFromEnv({})).toBeUndefined();
    expect(nameKeyFromEnv({ NAME_KEY: toBase64Url(KEY_A) })).toEqual(KEY_A);
    expect(() => nameKeyFromEnv({ NAME_KEY: toBase64Url(new Uint8Array(16)) })).toThrow(/32 bytes/);
    expect(() => nameKeyFromEnv({ NAME_KEY: 'not base64!' })).toThrow(/base64url/);
    const dir = tempDir();
    const made = nameKeyInDataDir(dir);
    expect(made.length).toBe(32);
    expect(statSync(join(dir, NAME_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(nameKeyInDataDir(dir)).toEqual(made);
    expect(nameKeyFromEnv({ NAME_KEY_FILE: join(dir, NAME_KEY_FILE) })).toEqual(made);
    // A first `npm start`: DATA_DIR does not exist yet.
    expect(nameKeyInDataDir(join(dir, 'not', 'yet')).length).toBe(32);
  });

  test('a first start of the real host process on a DATA_DIR that does not exist yet', async () => {
    const { child, url } = await spawnHost(join(tempDir(), 'data'));
    expect((await registerUser(url, 'first_start')).username).toBe('first_start');
    child.kill('SIGTERM');
  });
});

describe('a running host keeps no username in clear', () => {
  test('§9 after sign-ups, messages both ways, acks, a record and an upload, no host file holds either name', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'zelda_atrest');
    const bob = await registerUser(host.url, 'yorick_atrest');
    const aliceWs = await WsClient.open(host.url, alice.token);
    expect((await aliceWs.send('yorick_atrest', new Uint8Array(64).fill(1))).type).toBe('stored');
    expect((await call(host.url, API.messages + 'yorick_atrest', { token: alice.token, body: new Uint8Array(64).fill(2) })).status).toBe(201);
    const bobWs = await WsClient.open(host.url, bob.token);
    await bobWs.until(2);
    // The sender of an unsealed envelope is delivered by name although it is stored sealed.
    expect(bobWs.envelopes().map((e) => e.sender)).toEqual(['zelda_atrest', 'zelda_atrest']);
    bobWs.ack([bobWs.envelopes()[0]!.serverId]);
    expect((await bobWs.send('zelda_atrest', new Uint8Array(64).fill(3))).type).toBe('stored');
    expect((await call(host.url, API.bundles + 'zelda_atrest', { token: bob.token })).status).toBe(200);
    expect((await call(host.url, '/api/v1/blobs', { token: alice.token, json: { size: 1000 } })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 50));
    const needles = {
      alice: 'zelda_atrest',
      bob: 'yorick_atrest',
      aliceUtf16: new Uint8Array(Buffer.from('zelda_atrest', 'utf16le')),
      bobUtf16: new Uint8Array(Buffer.from('yorick_atrest', 'utf16le'))
    };
    expect(scanDataDir(host.dataDir, needles)).toEqual([]);
    await aliceWs.close();
    await bobWs.close();
    await host.close();
    const dir = host.dataDir;
    host = undefined;
    expect(scanDataDir(dir, needles)).toEqual([]);
    // Positive control: the files do hold the sealed form the stores look the name up by.
    expect(scanDataDir(dir, { sealed: nameSeal(nameKeyInDataDir(dir)).seal('zelda_atrest') }).length).toBeGreaterThan(0);
  });

  test('the same account works across a restart: the name key in DATA_DIR is kept', async () => {
    host = await startHost();
    const alice = await registerUser(host.url, 'alice');
    const dataDir = host.dataDir;
    await host.close();
    host = await startHost({ dataDir });
    expect((await call(host.url, API.bundles + 'alice', { token: alice.token })).status).toBe(200);
  });
});

/** Every file under dir as one string, for "no clear name anywhere" over raw bytes. */
function allBytes(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath, d.name)).toString('latin1'))
    .join('\n');
}

describe('a database an older host wrote in clear is sealed on the first start', () => {
  async function writeInClear(at: StoreLocation): Promise<void> {
    const old = await openHostStore(at); // no `names`: the adapter as an older host used it
    for (const u of ['carol_clear', 'dave_clear']) expect(await old.createAccount(account(u))).toBe(true);
    await old.putToken(key(4), 'carol_clear', Date.now() + 60_000);
    const stored = await old.applyMailboxBatch([{ recipient: 'dave_clear', sender: 'carol_clear', receivedAt: 5, body: key(6, 40) }], [], { maxCount: 100, maxBytes: 1e6, senderMaxCount: 100, senderMaxBytes: 1e6 });
    expect(typeof stored.ids[0]).toBe('number');
    await old.records.putRecord('carol_clear', key(1), key(2, 100), key(3), 7);
    await old.close();
  }

  async function expectReadable(at: StoreLocation): Promise<void> {
    const store = await openHostStore(at);
    try {
      expect(await store.identity('carol_clear')).toEqual(key(9, 131));
      expect(await store.tokenUser(key(4), Date.now())).toBe('carol_clear');
      const [e] = await store.pendingEnvelopes('dave_clear', 0, 10);
      expect(e).toMatchObject({ recipient: 'dave_clear', sender: 'carol_clear' });
      expect((await store.records.getRecord('carol_clear'))?.record).toEqual(key(2, 100));
      expect(await store.takeBundle('dave_clear')).toBeDefined();
    } finally {
      await store.close();
    }
  }

  test('SQLite: every name column sealed, the files compacted, the data still reachable by name', async () => {
    const dataDir = tempDir();
    await writeInClear({ dataDir });
    expect(allBytes(dataDir)).toContain('carol_clear');
    const names = nameSeal(KEY_A);
    expect(await bindNameKey({ dataDir }, names)).toBeGreaterThan(5);
    expect(allBytes(dataDir)).not.toContain('carol_clear');
    expect(allBytes(dataDir)).not.toContain('dave_clear');
    await expectReadable({ dataDir, names });
    // Idempotent, and bound to its key from now on.
    expect(await bindNameKey({ dataDir }, names)).toBe(0);
    await expect(bindNameKey({ dataDir }, nameSeal(KEY_B))).rejects.toThrow(NameKeyMismatchError);
  });

  test('PostgreSQL: every name column sealed with the foreign keys intact, and bound to the key', async () => {
    const databaseUrl = await (await sharedCluster()).createDatabase();
    await writeInClear({ dataDir: tempDir(), databaseUrl });
    const names = nameSeal(KEY_A);
    expect(await bindNameKey({ dataDir: tempDir(), databaseUrl }, names)).toBeGreaterThan(5);
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      for (const [t, col] of [['accounts', 'username'], ['tokens', 'username'], ['envelopes', 'recipient'], ['envelopes', 'sender'], ['mailbox_usage', 'username'], ['account_records', 'username'], ['kem_prekeys', 'username']] as const) {
        const r = await c.query<{ v: string }>(`SELECT ${col} AS v FROM ${t}`);
        expect(r.rows.length, t).toBeGreaterThan(0);
        for (const { v } of r.rows) expect(isSealedName(v), `${t}.${col}`).toBe(true);
      }
    } finally {
      await c.end();
    }
    await expectReadable({ dataDir: tempDir(), databaseUrl, names });
    expect(await bindNameKey({ dataDir: tempDir(), databaseUrl }, names)).toBe(0);
    await expect(bindNameKey({ dataDir: tempDir(), databaseUrl }, nameSeal(KEY_B))).rejects.toThrow(NameKeyMismatchError);
  });

  test('a second instance given another name key refuses to start instead of missing every account', async () => {
    const databaseUrl = await (await sharedCluster()).createDatabase();
    host = await startHost({ databaseUrl, nameKey: KEY_A });
    await expect(startHost({ databaseUrl, nameKey: KEY_B })).rejects.toThrow(NameKeyMismatchError);
  });
});

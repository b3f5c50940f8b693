/**
 * Sessions at rest in the schema v3 layout (workers/storage/session-repo.ts): a small head row per
 * contact and one row per bucket of skipped message keys, written only when they change.
 * SECURITY.md P15 (a used or expired skipped key leaves IndexedDB in the same transaction that
 * stores the advanced session), P12/P34 (a crash before that commit leaves every row as it was),
 * P32 (no skipped key in the clear), P33 (a damaged, stale or moved skipped-key row is refused,
 * never used), and the v2 -> v3 upgrade of a vault written by the old layout.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, test } from 'vitest';
import { asUsername, type Username } from '../../src/lib/codec/username';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { encodeSession, initiateSession, peekMessageType, sessionDecrypt, sessionEncrypt } from '../../src/lib/crypto/session';
import { decodeSkippedBucket } from '../../src/lib/crypto/ratchet/skipped-bucket';
import { SKIPPED_KEY_TTL_MS } from '../../src/lib/crypto/ratchet/limits';
import { skippedEntries } from '../../src/lib/crypto/ratchet/skipped-keys';
import type { EngineEvent } from '../../workers/engine/events';
import type { EngineContext, Faults } from '../../workers/engine/context';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import { decryptEnvelope } from '../../workers/engine/receive-crypto';
import { putAccount, putIdentity, sealIdentity } from '../../workers/storage/account-repo';
import { putPreKeys, sealPreKeys } from '../../workers/storage/prekey-repo';
import { openBytes } from '../../workers/storage/record-seal';
import { DB_VERSION, Meta, type Sealed, type SkippedKeysRow } from '../../workers/storage/schema';
import { seal } from '../../workers/storage/seal';
import { loadSessions, putSessions, sealSessions } from '../../workers/storage/session-repo';
import { commit, loadVault } from '../../workers/storage/vault';
import { bundleOf, makeUser } from '../support/pqxdh-fixtures';
import { dumpAll, findNeedle } from './storage-dump';
import { closeAll, newUser, openUser, settle, texts, type User } from './support';

const ALICE = asUsername('alice');
const BOB = asUsername('bob');
const pt = (t: string) => new TextEncoder().encode(t);
let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** A clock the test moves (skipped keys expire after SKIPPED_KEY_TTL_MS). */
function clockDeps(): Deps & { advance(ms: number): void } {
  let offset = 0;
  return { rng: systemDeps.rng, now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

/**
 * Alice and bob with an established session; then alice sends `count` texts that wait at the host
 * and the last one is delivered first, so bob holds the other `count - 1` as skipped keys.
 */
async function withSkippedKeys(count: number, bobFaults: Faults = {}, bobDeps?: Deps) {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob', { faults: bobFaults, ...(bobDeps ? { deps: bobDeps } : {}) });
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'start');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'reply');
  await settle(alice, bob);
  host.autoPush = false;
  const sent = Array.from({ length: count }, (_, i) => `late ${i}`);
  for (const t of sent) await alice.engine.sendText('bob', t);
  await settle(alice, bob);
  const envs = host.pending(BOB);
  expect(envs).toHaveLength(count);
  host.push(BOB, [envs[count - 1]!.serverId]);
  await settle(alice, bob);
  expect(await texts(bob, 'alice')).toEqual(['start', 'reply', sent[count - 1]]);
  return { host, alice, bob, sent, envs };
}

/** Every skipped message key stored in `u`'s vault, read row by row through the data key. */
async function storedKeys(u: User): Promise<{ n: number; messageKey: Uint8Array }[]> {
  const db = u.engine.ctx.vault.db;
  const rows = await db.getAll('skippedKeys');
  return rows.flatMap((r) => decodeSkippedBucket(openBytes(db, 'skippedKeys', r.key, r.sealed)).keys);
}

async function sessionRows(u: User) {
  const db = u.engine.ctx.vault.db;
  return { heads: await db.getAll('sessions'), rows: await db.getAll('skippedKeys') };
}

/** The skipped keys bob's session holds, by message number. */
async function sessionKeys(u: User, peer: Username): Promise<Map<number, Uint8Array>> {
  const [s] = await loadSessions(u.engine.ctx.vault, peer);
  return new Map([...skippedEntries(s!.ratchet.skipped)].map((k) => [k.n, k.messageKey]));
}

describe('skipped message keys at rest', () => {
  test('P15 P32 a used skipped key leaves IndexedDB in the commit that stores the advanced session; the others stay, sealed', async () => {
    // 34 skipped keys: two buckets, so a use changes one bucket row and leaves the other as it is.
    const { host, alice, bob, sent, envs } = await withSkippedKeys(35);
    const keys = await sessionKeys(bob, ALICE);
    const ns = [...keys.keys()];
    expect(ns).toHaveLength(34);
    expect((await storedKeys(bob)).map((k) => k.n)).toEqual(ns);
    expect(await bob.engine.ctx.vault.db.count('skippedKeys')).toBe(2);
    const dump = await dumpAll();
    for (const k of keys.values()) expect(findNeedle(dump, k), 'a skipped key in the clear').toEqual([]);

    host.push(BOB, [envs[1]!.serverId]);
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['start', 'reply', sent[1], sent[34]]);
    expect((await storedKeys(bob)).map((k) => k.n)).toEqual(ns.filter((n) => n !== ns[1]));
    expect((await storedKeys(bob)).some((k) => Buffer.from(k.messageKey).equals(keys.get(ns[1]!)!))).toBe(false);

    host.push(BOB);
    await settle(alice, bob);
    expect((await texts(bob, 'alice')).slice(2)).toEqual(sent);
    expect(await bob.engine.ctx.vault.db.count('skippedKeys')).toBe(0);
    expect(host.pending(BOB)).toEqual([]);
  });

  test('P12 P34 a crash before the commit that uses a skipped key leaves the key, the head and every row as they were; on redelivery it is used once', async () => {
    let crash = false;
    const { host, alice, bob, sent, envs } = await withSkippedKeys(3, {
      midReceiveCommit: () => {
        if (crash) throw new Error('simulated crash');
      }
    });
    const before = await sessionRows(bob);
    const ns = (await storedKeys(bob)).map((k) => k.n);
    expect(ns).toHaveLength(2);
    crash = true;
    host.push(BOB, [envs[0]!.serverId]);
    await settle(alice, bob);
    expect(await sessionRows(bob)).toEqual(before);
    expect((await storedKeys(bob)).map((k) => k.n)).toEqual(ns);
    expect(await texts(bob, 'alice')).toEqual(['start', 'reply', sent[2]]);

    crash = false;
    bob.engine.disconnect();
    bob.engine.connect();
    await settle(alice, bob);
    expect((await texts(bob, 'alice')).slice(2).sort()).toEqual([...sent].sort());
    expect(await bob.engine.ctx.vault.db.count('skippedKeys')).toBe(0);
    expect(host.pending(BOB)).toEqual([]);
  });

  test('P15 expired skipped keys are deleted from IndexedDB (the next send forgets them)', async () => {
    const deps = clockDeps();
    const { alice, bob } = await withSkippedKeys(3, {}, deps);
    expect(await bob.engine.ctx.vault.db.count('skippedKeys')).toBe(1);
    deps.advance(SKIPPED_KEY_TTL_MS);
    await bob.engine.sendText('alice', 'a month later');
    await settle(alice, bob);
    expect(await bob.engine.ctx.vault.db.count('skippedKeys')).toBe(0);
    expect(await sessionKeys(bob, ALICE)).toEqual(new Map());
  });

  test('a message that neither uses nor adds a skipped key rewrites the head row only', async () => {
    const { host, alice, bob } = await withSkippedKeys(3);
    const before = await sessionRows(bob);
    expect(before.rows).toHaveLength(1);
    host.autoPush = true;
    await alice.engine.sendText('bob', 'in order');
    await settle(alice, bob);
    const after = await sessionRows(bob);
    expect(after.rows).toEqual(before.rows);
    expect(after.heads).not.toEqual(before.heads);
    expect(await texts(bob, 'alice')).toContain('in order');
  });
});

/** Closes `u`, changes its skipped-key rows behind the engine's back, reopens it and reconnects. */
async function tamperRows(host: MemoryHost, u: User, change: (rows: SkippedKeysRow[]) => SkippedKeysRow[]): Promise<{ again: User; events: EngineEvent[] }> {
  await u.engine.close();
  open = open.filter((x) => x !== u);
  const db = await openDB(u.dbName);
  const rows = (await db.getAll('skippedKeys')) as SkippedKeysRow[];
  await db.clear('skippedKeys');
  for (const r of change(rows)) await db.put('skippedKeys', r);
  db.close();
  const again = await openUser(host, u.name, {}, u.dbName);
  open.push(again);
  const events: EngineEvent[] = [];
  again.engine.subscribe((e) => events.push(e));
  again.engine.connect();
  return { again, events };
}

function flipped(s: Sealed): Sealed {
  const ct = s.ct.slice();
  ct[ct.length - 1]! ^= 0x01;
  return { iv: s.iv, ct };
}

describe('P33 a skipped-key row that is not the one its session names is refused, never used', () => {
  test('P33 a damaged row: the late message is reported StorageLost and left unacked, nothing is shown', async () => {
    const { host, alice, bob, sent, envs } = await withSkippedKeys(3);
    const { again, events } = await tamperRows(host, bob, (rows) => rows.map((r) => ({ ...r, sealed: flipped(r.sealed) })));
    host.push(BOB, [envs[0]!.serverId]);
    await settle(alice, again);
    expect(events).toContainEqual({ type: 'receive-error', username: 'alice', code: 'StorageLost' });
    expect(await texts(again, 'alice')).toEqual(['start', 'reply', sent[2]]);
    expect(host.pending(BOB).map((e) => e.serverId)).toContain(envs[0]!.serverId);
    expect(await again.engine.ctx.vault.db.count('failures')).toBe(0);
  });

  test('P15 P33 an older copy of a row put back (it still holds a used key) is refused: the used key is never resurrected', async () => {
    const { host, alice, bob, envs } = await withSkippedKeys(3);
    const old = (await bob.engine.ctx.vault.db.getAll('skippedKeys'))[0]!;
    const ns = (await storedKeys(bob)).map((k) => k.n);
    host.push(BOB, [envs[0]!.serverId]);
    await settle(alice, bob);
    expect((await storedKeys(bob)).map((k) => k.n)).toEqual([ns[1]]);
    const { again, events } = await tamperRows(host, bob, () => [old]);
    // A replay of late 0 would decrypt again with the resurrected key if the old row were used.
    host.deliverTo(BOB, { ...envs[0]!, serverId: 'replayed' });
    await settle(alice, again);
    const codes = events.flatMap((e) => (e.type === 'receive-error' ? [e.code] : []));
    expect(codes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(codes)).toEqual(new Set(['StorageLost']));
    expect(host.pending(BOB).map((e) => e.serverId)).toEqual([envs[1]!.serverId]);
    expect(await texts(again, 'alice')).toHaveLength(4);
  });

  test.each([
    ['swapped between two buckets', (rows: SkippedKeysRow[]) => rows.map((r, i) => ({ ...r, sealed: rows[1 - i]!.sealed }))],
    ['moved under another bucket key', (rows: SkippedKeysRow[]) => [rows[0]!, { ...rows[1]!, key: rows[1]!.key.replace(/:1$/, ':2') }]]
  ])('P33 rows %s are refused', async (_what, change) => {
    const { host, alice, bob, envs } = await withSkippedKeys(35);
    expect(await bob.engine.ctx.vault.db.count('skippedKeys')).toBe(2);
    const { again, events } = await tamperRows(host, bob, change);
    host.push(BOB, [envs[33]!.serverId]);
    await settle(alice, again);
    expect(events).toContainEqual({ type: 'receive-error', username: 'alice', code: 'StorageLost' });
    expect(await texts(again, 'alice')).toHaveLength(3);
  });
});

describe('schema v2 -> v3', () => {
  test('P32 P34 a vault written by the v2 layout opens, its sessions (skipped keys included) are converted in one transaction and keep working', async () => {
    const { host, alice, bob, sent, envs } = await withSkippedKeys(4);
    const states = await loadSessions(bob.engine.ctx.vault, ALICE);
    expect(states[0]!.ratchet.skipped.size).toBe(3);
    await bob.engine.close();
    open = open.filter((x) => x !== bob);

    // The same vault in the v2 layout: every store as it was, sessions whole under the wrapping key.
    const v3 = await openDB(bob.dbName);
    const v2Name = `${bob.dbName}-v2`;
    const v2 = await openDB(v2Name, 2, {
      upgrade(d) {
        d.createObjectStore('meta');
        d.createObjectStore('prekeys', { keyPath: 'key' }).createIndex('byKind', 'kind');
        d.createObjectStore('sessions', { keyPath: 'username' });
        d.createObjectStore('contacts', { keyPath: 'username' });
        d.createObjectStore('chats', { keyPath: 'id' }).createIndex('byLastAt', 'lastAt');
        d.createObjectStore('messages', { keyPath: 'key' }).createIndex('byChat', ['chatId', 'sentAt']);
        d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        d.createObjectStore('failures', { keyPath: 'seq', autoIncrement: true });
      }
    });
    for (const store of ['meta', 'prekeys', 'contacts', 'chats', 'messages', 'outbox', 'failures']) {
      const keys = await v3.getAllKeys(store);
      const values = await v3.getAll(store);
      for (let i = 0; i < keys.length; i++) await v2.put(store, values[i], store === 'meta' ? keys[i] : undefined);
    }
    const wrap = (await v3.get('meta', Meta.wrapKey)) as CryptoKey;
    const sealed = [];
    for (const s of states) sealed.push(await seal(wrap, encodeSession(s)));
    await v2.put('sessions', { username: ALICE, sealed });
    v3.close();
    v2.close();

    const again = await openUser(host, 'bob', {}, v2Name);
    open.push(again);
    const db = again.engine.ctx.vault.db;
    expect(db.version).toBe(DB_VERSION);
    expect(await db.count('legacySessions')).toBe(0);
    expect(await db.get('meta', Meta.migrateSessions)).toBeUndefined();
    expect(await db.count('skippedKeys')).toBe(1);
    const migrated = await loadSessions(again.engine.ctx.vault, ALICE);
    expect(migrated.map(encodeSession)).toEqual(states.map(encodeSession));

    // Still the same conversation: the late messages decrypt with the migrated skipped keys.
    again.engine.connect();
    host.push(BOB, [envs[2]!.serverId, envs[0]!.serverId, envs[1]!.serverId]);
    host.autoPush = true;
    await alice.engine.sendText('bob', 'after the upgrade');
    await settle(alice, again);
    expect((await texts(again, 'alice')).slice(2).sort()).toEqual([...sent, 'after the upgrade'].sort());
    expect(await db.count('skippedKeys')).toBe(0);
    expect(await db.getAll('failures')).toEqual([]);
  });
});

describe("P18 this tab's cache of decoded sessions never decides against what is stored", () => {
  test('P18 a reset from another tab is not undone by the driver, which still held the session in memory', async () => {
    const host = new MemoryHost();
    const locks = memoryLocks();
    const alice = await newUser(host, 'alice');
    const tab1 = await newUser(host, 'bob', { locks });
    const tab2 = await openUser(host, 'bob', { locks }, tab1.dbName);
    open.push(alice, tab1, tab2);
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'start');
    await settle(alice, tab1, tab2);
    await tab1.engine.sendText('alice', 'reply');
    await settle(alice, tab1, tab2);
    expect(tab1.engine.ctx.driver && !tab2.engine.ctx.driver).toBe(true);

    await tab2.engine.resetSession('alice');
    const events: EngineEvent[] = [];
    tab1.engine.subscribe((e) => events.push(e));
    await alice.engine.sendText('bob', 'after the reset');
    await settle(alice, tab1, tab2);
    // The driver decrypted with the session it held, but could not store it over the reset.
    expect(await tab1.engine.ctx.vault.db.get('sessions', 'alice')).toBeUndefined();
    expect(events).toContainEqual({ type: 'receive-error', username: 'alice', code: 'Internal' });
    expect(host.pending(BOB)).toHaveLength(1);
    expect(await texts(tab1, 'alice')).toEqual(['start', 'reply']);
  });

  test('P34 a session stored by another connection that this cache lacks: the failed decrypt is retried against what is stored, not believed', async () => {
    const deps = systemDeps;
    const bob = makeUser('bob', deps);
    const alice = makeUser('alice', deps);
    const name = `stale-cache-${process.pid}-${Date.now()}`;
    const here = await loadVault(name);
    const records = sealPreKeys(here, { signed: bob.signedPreKey, oneTime: [...bob.oneTimePreKeys.values()], kem: [...bob.kemPreKeys.values()] }, deps.now());
    const identity = await sealIdentity(here, bob.identity);
    await commit(here, async (tx) => {
      await putPreKeys(tx, records);
      await putIdentity(tx, identity);
      await putAccount(tx, { username: BOB, createdAt: 1, registered: true, nextOneTimeId: 1, nextKemId: 1, nextSignedId: 1 });
    });
    const ctxOf = (vault: typeof here) => ({ vault, deps, me: { username: BOB, identity: bob.identity } }) as EngineContext;
    const receive = async (ctx: EngineContext, body: Uint8Array) => {
      const d = await decryptEnvelope(ctx, { serverId: 's', sender: ALICE, body, receivedAt: 0 });
      const w = await sealSessions(ctx.vault, ALICE, d.sessions);
      await commit(ctx.vault, (tx) => putSessions(tx, w));
      return new TextDecoder().decode(d.plaintext);
    };
    const start = () => initiateSession({ ourIdentity: alice.identity, ourUsername: 'alice', theirUsername: 'bob', bundle: bundleOf(bob) }, deps);

    // Session 1 through this connection: its cache holds it.
    expect(await receive(ctxOf(here), sessionEncrypt(start(), pt('one'), deps).message)).toBe('one');
    // Another connection accepts a second session from alice and answers on it.
    const elsewhere = await loadVault(name);
    let a2 = sessionEncrypt(start(), pt('two'), deps).state;
    expect(await receive(ctxOf(elsewhere), sessionEncrypt(a2, pt('two'), deps).message)).toBe('two');
    const [b2, ...older] = await loadSessions(elsewhere, ALICE);
    const answer = sessionEncrypt(b2!, pt('ack'), deps);
    const w = await sealSessions(elsewhere, ALICE, [answer.state, ...older]);
    await commit(elsewhere, (tx) => putSessions(tx, w));
    a2 = sessionDecrypt(a2, answer.message, deps).state;

    // A ratchet message on session 2, which this connection's cache does not have.
    const three = sessionEncrypt(a2, pt('three'), deps).message;
    expect(peekMessageType(three)).toBe('ratchet');
    expect(await receive(ctxOf(here), three)).toBe('three');
    expect(await loadSessions(here, ALICE)).toHaveLength(2);
    here.db.close();
    elsewhere.db.close();
  });
});

/**
 * SECURITY.md P33 "storage loss is detected and routed to recovery" (DESIGN.md §8): when the
 * vault's keys or identity disappear or do not open while account data remains, the engine
 * reports StorageLost, refuses to create a new identity over the remains, and writes nothing —
 * until the user explicitly resets. A damaged record met later is StorageLost too, and an
 * envelope that could not be processed because of it stays unacked at the host.
 */
import 'fake-indexeddb/auto';
import { openDB, type IDBPDatabase } from 'idb';
import { afterEach, describe, expect, test } from 'vitest';
import { Engine } from '../../workers/engine/engine';
import type { EngineEvent } from '../../workers/engine/events';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import { VaultService } from '../../workers/engine/vault-api';
import { serveVault } from '../../src/lib/vault/remote';
import { Meta, type Sealed } from '../../workers/storage/schema';
import { dumpAll, findNeedle } from './storage-dump';
import { closeAll, newUser, openUser, settle, texts, type User } from './support';
import { asUsername } from '../../src/lib/codec/username';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** Alice with a contact, a chat and messages: account data worth protecting. */
async function aliceWithHistory() {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob');
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  await alice.engine.sendText('bob', 'history that must survive 5150');
  await settle(alice, bob);
  await bob.engine.sendText('alice', 'a reply');
  await settle(alice, bob);
  return { host, alice, bob };
}

/** Closes `u`, changes its database behind the engine's back, and opens it again. */
async function tamper(host: MemoryHost, u: User, change: (db: IDBPDatabase) => Promise<unknown>): Promise<User> {
  await u.engine.close();
  open = open.filter((x) => x !== u);
  const db = await openDB(u.dbName);
  await change(db);
  db.close();
  const again = await openUser(host, u.name, {}, u.dbName);
  open.push(again);
  return again;
}

function flipped(s: Sealed): Sealed {
  const ct = s.ct.slice();
  ct[ct.length - 1]! ^= 0x01;
  return { iv: s.iv, ct };
}

async function dbSnapshot(dbName: string) {
  return (await dumpAll()).filter((r) => r.db === dbName).map((r) => ({ store: r.store, key: r.key, value: r.value instanceof CryptoKey ? 'CryptoKey' : r.value }));
}

async function expectLost(u: User): Promise<void> {
  await expect(u.engine.account()).rejects.toMatchObject({ code: 'StorageLost' });
  const before = await dbSnapshot(u.dbName);
  await expect(u.engine.createAccount('alice')).rejects.toMatchObject({ code: 'StorageLost' });
  await expect(u.engine.createAccount('someone_new')).rejects.toMatchObject({ code: 'StorageLost' });
  await expect(u.engine.sendText('bob', 'x')).rejects.toMatchObject({ code: expect.stringMatching(/StorageLost|NoAccount/) });
  await expect(u.engine.resetSession('bob')).rejects.toMatchObject({ code: 'StorageLost' });
  // Nothing was written: no new keys, no new identity over the remains.
  expect(await dbSnapshot(u.dbName)).toEqual(before);
}

const losses: [string, (db: IDBPDatabase) => Promise<unknown>][] = [
  ['the wrapping key evicted', (db) => db.delete('meta', Meta.wrapKey)],
  ['the identity record deleted', (db) => db.delete('meta', Meta.identity)],
  ['the data key deleted', (db) => db.delete('meta', Meta.dataKey)],
  ['the whole meta store cleared (messages left)', (db) => db.clear('meta')],
  ['the account record deleted', (db) => db.delete('meta', Meta.account)],
  ['the sealed identity damaged', async (db) => db.put('meta', flipped((await db.get('meta', Meta.identity)) as Sealed), Meta.identity)],
  ['the sealed data key damaged', async (db) => db.put('meta', flipped((await db.get('meta', Meta.dataKey)) as Sealed), Meta.dataKey)]
];

describe('P33 storage loss is detected and routed to recovery', () => {
  test.each(losses)('P33 %s: opening reports StorageLost, createAccount is refused, nothing is written', async (_what, change) => {
    const { host, alice } = await aliceWithHistory();
    const again = await tamper(host, alice, change);
    await expectLost(again);
  });

  test('P33 resetLocalData is the explicit way out: everything local is erased, then a new account can be made', async () => {
    const { host, alice } = await aliceWithHistory();
    const again = await tamper(host, alice, (db) => db.delete('meta', Meta.wrapKey));
    await expectLost(again);
    await again.engine.resetLocalData();
    expect(await again.engine.account()).toBeNull();
    expect(findNeedle(await dumpAll(), 'history that must survive 5150')).toEqual([]);
    expect(await again.engine.ctx.vault.db.count('messages')).toBe(0);
    await again.engine.createAccount('alice_again');
    expect(await again.engine.account()).toEqual({ username: 'alice_again' });
    // And it is a working vault: it reopens as the new account.
    const reopened = await tamper(host, again, async () => undefined);
    expect(await reopened.engine.account()).toEqual({ username: 'alice_again' });
  });

  test('P33 through the vault API the page sees the StorageLost code and can reset', async () => {
    const { host, alice } = await aliceWithHistory();
    await alice.engine.close();
    open = open.filter((x) => x !== alice);
    const db = await openDB(alice.dbName);
    await db.delete('meta', Meta.identity);
    db.close();
    let engine: Engine | undefined;
    const api = serveVault(new VaultService(async () => (engine = await Engine.open({ transport: host.transport(), dbName: alice.dbName, locks: memoryLocks() }))));
    expect(await api.account()).toEqual({ ok: false, error: { code: 'StorageLost', message: expect.any(String) } });
    expect(await api.createAccount('carol')).toMatchObject({ ok: false, error: { code: 'StorageLost' } });
    expect(await api.resetLocalData()).toEqual({ ok: true, value: undefined });
    expect(await api.account()).toEqual({ ok: true, value: null });
    expect(await api.createAccount('carol')).toEqual({ ok: true, value: { username: 'carol' } });
    await engine?.close();
  });

  test('P33 a session record that no longer opens: the envelope is reported StorageLost and left unacked, not dropped', async () => {
    const { host, alice, bob } = await aliceWithHistory();
    const again = await tamper(host, bob, async (db) => {
      const rec = (await db.get('sessions', 'alice')) as { username: string; sealed: Sealed };
      await db.put('sessions', { ...rec, sealed: flipped(rec.sealed) });
    });
    const events: EngineEvent[] = [];
    again.engine.subscribe((e) => events.push(e));
    again.engine.connect();
    await alice.engine.sendText('bob', 'arrives while bob cannot open his session');
    await settle(alice, again);
    expect(events).toContainEqual({ type: 'receive-error', username: 'alice', code: 'StorageLost' });
    expect(host.pending(asUsername('bob'))).toHaveLength(1);
    expect(await again.engine.ctx.vault.db.count('failures')).toBe(0);
    expect(await texts(again, 'alice')).toEqual(['history that must survive 5150', 'a reply']);
  });

  test('P33 an ordinary reload of an intact vault is not a loss', async () => {
    const { host, alice } = await aliceWithHistory();
    const again = await tamper(host, alice, async () => undefined);
    expect(await again.engine.account()).toEqual({ username: 'alice' });
    expect(await texts(again, 'bob')).toEqual(['history that must survive 5150', 'a reply']);
  });
});

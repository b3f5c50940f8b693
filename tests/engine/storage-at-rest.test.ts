/**
 * SECURITY.md P32 "no plaintext secrets at rest" (DESIGN.md §8): after a scripted conversation,
 * every record of every IndexedDB database is dumped raw and searched. No sent or received text,
 * no chat preview, no queued outbox content, no call signal and no private key or chain key may
 * appear; identities and usernames (public) do appear, which proves the search can see them.
 * Also: v1 vaults with clear rows are sealed by the v2 upgrade, and sealed values are bound to
 * their row. The dump holds the browser-stored wrapping key, which opens the sealed records; what
 * stops a copy of the profile is the app lock (P46, app-lock.test.ts).
 */
import 'fake-indexeddb/auto';
import { asUsername } from '../../src/lib/codec/username';
import { openDB } from 'idb';
import { afterEach, describe, expect, test } from 'vitest';
import { seededDeps } from '../../src/lib/crypto/deps';
import { encodeIdentityKeyPair, encodeIdentityPublic, generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import { decodeKemPreKey, decodeOneTimePreKey, decodeSignedPreKey } from '../../src/lib/crypto/prekeys';
import { encodeCallSignal } from '../../src/lib/wire/call';
import { MemoryHost } from '../../workers/engine/memory-host';
import { loadSessions } from '../../workers/storage/session-repo';
import { DB_VERSION, Meta, type Sealed } from '../../workers/storage/schema';
import { newWrapKey, seal, unseal } from '../../workers/storage/seal';
import { openBytes } from '../../workers/storage/record-seal';
import type { Vault } from '../../workers/storage/vault';
import { dumpAll, findNeedle } from './storage-dump';
import { closeAll, newUser, openUser, settle, texts, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** Every private key, chain key and the data key of one vault, read through its keys. */
async function secretsOf(vault: Vault, me: User, peers: string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const id = me.engine.ctx.me!.identity;
  out.push(id.signing.privateKey.slice(0, 32), id.dh.privateKey);
  for (const r of await vault.db.getAll('prekeys')) {
    const bytes = r.sealed.iv.length === 12 ? await unseal(vault.key, r.sealed) : openBytes(vault.db, 'prekeys', r.key, r.sealed);
    const decode = r.kind === 'signed' ? decodeSignedPreKey : r.kind === 'oneTime' ? decodeOneTimePreKey : decodeKemPreKey;
    out.push(decode(bytes).keyPair.privateKey.slice(0, 32));
  }
  for (const peer of peers) {
    for (const s of await loadSessions(vault, asUsername(peer))) {
      const r = s.ratchet;
      for (const k of [r.rootKey, r.sendingChainKey, r.receivingChainKey, r.ourRatchetKey.privateKey]) if (k) out.push(k);
    }
  }
  out.push(await unseal(vault.key, (await vault.db.get('meta', Meta.dataKey)) as Sealed));
  return out;
}

describe('P32 no plaintext secrets at rest', () => {
  test('P32 after a conversation no sent/received text, preview, queued content or key is in any IndexedDB record', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    const said = {
      a1: 'the eagle lands at midnight 7f3a',
      b1: 'Grüße zurück 🔐 unter der Brücke',
      a2: 'queued while offline: vault code 4412',
      long: 'a long one, cut for the preview: ' + 'x9q'.repeat(60)
    };
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', said.a1);
    await settle(alice, bob);
    await bob.engine.sendText('alice', said.b1);
    await bob.engine.sendText('alice', said.long);
    await settle(alice, bob);
    await alice.engine.markRead('bob');
    await alice.engine.markVerified('bob', { safetyNumber: (await alice.engine.contactInfo('bob')).safetyNumber });
    await alice.engine.recordCall('bob', { callId: 'ab'.repeat(16), direction: 'out', media: 'video', outcome: 'completed', durationMs: 133_000, at: Date.now() });
    await settle(alice, bob);
    // Offline: the text and a call signal stay in alice's outbox as content, not yet encrypted.
    alice.engine.disconnect();
    const signal = encodeCallSignal({
      type: 'offer',
      callId: 'cd'.repeat(16),
      peerId: '5e'.repeat(16),
      dtlsFingerprint: Uint8Array.from({ length: 32 }, (_, i) => 90 + i),
      media: 'audio',
      sentAt: Date.now()
    });
    await alice.engine.sendText('bob', said.a2);
    await alice.engine.sendCallSignal('bob', signal);
    await settle(alice, bob);

    // The engine still reads everything back.
    expect(await texts(alice, 'bob')).toEqual([said.a1, said.b1, said.long, said.a2]);
    expect(await texts(bob, 'alice')).toEqual([said.a1, said.b1, said.long]);
    expect((await alice.engine.listChats())[0]).toMatchObject({ username: 'bob', lastPreview: said.a2, verified: true });
    expect((await bob.engine.listChats())[0]?.lastPreview).toBe(said.long.slice(0, 79) + '…');
    expect(await alice.engine.ctx.vault.db.count('outbox')).toBeGreaterThanOrEqual(2);

    const dump = await dumpAll();
    // Controls: public data is found, so a miss below is a real miss.
    expect(findNeedle(dump, 'alice').length).toBeGreaterThan(0);
    expect(findNeedle(dump, encodeIdentityPublic(identityPublic(bob.engine.ctx.me!.identity))).length).toBeGreaterThan(0);

    const plaintexts = [...Object.values(said), said.long.slice(0, 40), 'x9qx9qx9q', 'Brücke', 'Outgoing video call', 'call:out:video', 'verified', 'identityChanged'];
    for (const text of plaintexts) expect(findNeedle(dump, text), text).toEqual([]);
    expect(findNeedle(dump, signal), 'call signal').toEqual([]);
    expect(findNeedle(dump, signal.slice(-32)), 'call signal tail').toEqual([]);
    const keys = [...(await secretsOf(alice.engine.ctx.vault, alice, ['bob'])), ...(await secretsOf(bob.engine.ctx.vault, bob, ['alice']))];
    expect(keys.length).toBeGreaterThan(2 * (2 + 50 + 21 + 1));
    keys.forEach((k, i) => expect(findNeedle(dump, k), `secret ${i}`).toEqual([]));
  });

  test('P32 a sealed body moved onto another message row does not open: StorageLost, not the wrong text', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'first');
    await alice.engine.sendText('bob', 'second');
    await settle(alice, bob);
    const db = alice.engine.ctx.vault.db;
    const [m1, m2] = await db.getAll('messages');
    await db.put('messages', { ...m2!, sealed: m1!.sealed });
    await expect(alice.engine.listMessages('bob')).rejects.toMatchObject({ code: 'StorageLost' });
  });
});

/** Writes a vault exactly as schema v1 left it: keys sealed, everything else clear. */
async function writeV1Vault(dbName: string, username: string): Promise<void> {
  const deps = seededDeps(32);
  const identity = generateIdentity(deps);
  const bobIdentity = encodeIdentityPublic(identityPublic(generateIdentity(deps)));
  const db = await openDB(dbName, 1, {
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
  const wrap = await newWrapKey();
  const sealedIdentity = await seal(wrap, encodeIdentityKeyPair(identity));
  const tx = db.transaction(['meta', 'contacts', 'chats', 'messages', 'outbox'], 'readwrite');
  void tx.objectStore('meta').put(wrap, 'wrapKey');
  void tx.objectStore('meta').put(sealedIdentity, 'identity');
  void tx.objectStore('meta').put({ username, createdAt: 1, registered: true, nextOneTimeId: 1, nextKemId: 1, nextSignedId: 1 }, 'account');
  void tx.objectStore('contacts').put({ username: 'bob', identity: bobIdentity, verified: true, blocked: false, identityChanged: false });
  void tx.objectStore('chats').put({ id: 'bob', lastPreview: 'legacy preview 31337', lastAt: 20, unread: 1, missing: 0 });
  void tx.objectStore('messages').put({ key: 'bob:aa', id: 'aa', chatId: 'bob', direction: 'in', body: 'legacy in 31337', sentAt: 10, receivedAt: 11, status: 'received', read: false });
  void tx.objectStore('messages').put({ key: 'bb', id: 'bb', chatId: 'bob', direction: 'out', body: 'legacy preview 31337', sentAt: 20, receivedAt: 20, status: 'queued' });
  void tx.objectStore('outbox').put({ to: 'bob', content: new TextEncoder().encode('legacy outbox 31337'), messageKey: 'bb' });
  await tx.done;
  db.close();
}

describe('P32 schema v2 upgrade', () => {
  test('P32 opening a v1 vault seals its clear bodies, previews, contacts and outbox content, and the engine reads them back', async () => {
    const dbName = `storage-v1-${process.pid}`;
    await writeV1Vault(dbName, 'alice');
    const before = await dumpAll();
    expect(findNeedle(before, '31337').length).toBeGreaterThan(0);

    const host = new MemoryHost();
    const alice = await openUser(host, 'alice', {}, dbName);
    open.push(alice);
    expect(await alice.engine.account()).toEqual({ username: 'alice' });
    expect(alice.engine.ctx.vault.db.version).toBe(DB_VERSION);
    expect((await alice.engine.listMessages('bob')).flatMap((m) => (m.kind === 'text' ? [m.text] : []))).toEqual(['legacy in 31337', 'legacy preview 31337']);
    expect((await alice.engine.listChats())[0]).toMatchObject({ username: 'bob', lastPreview: 'legacy preview 31337', unread: 1, verified: true });
    const after = await dumpAll();
    expect(findNeedle(after, '31337')).toEqual([]);
    expect(await alice.engine.ctx.vault.db.get('meta', Meta.migrateRows)).toBeUndefined();
  });
});

/**
 * The SQLite storage adapter on its own: versioned migrations, atomic one-time prekey hand-out,
 * last-resort rotation, and the group-commit batch (inserts and acks in one transaction); the
 * P40 parts of the port: byte-bounded replay pages, bounded sweep chunks that say what they
 * deleted, and a last-resort key that cannot be lost.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MIGRATIONS } from '../../src/host/storage/migrations';
import { DB_FILE, openSqliteStorage } from '../../src/host/storage/sqlite';
import { tempDir } from './support';
import { testAccount } from './test-account';

const key = (n: number, len = 32) => new Uint8Array(len).fill(n);

const account = testAccount;

describe('sqlite storage', () => {
  test('migrations record their version, re-open is idempotent, and a newer schema is refused', async () => {
    const dir = tempDir();
    const s1 = openSqliteStorage(dir);
    expect(s1.schemaVersion).toBe(MIGRATIONS.length);
    expect(s1.createAccount(account('alice'))).toBe(true);
    await s1.close();
    const s2 = openSqliteStorage(dir);
    expect(s2.accountExists('alice')).toBe(true);
    await s2.close();
    const db = new Database(join(dir, DB_FILE));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openSqliteStorage(dir)).toThrow(/newer/);
  });

  test('a taken name changes nothing; one-time keys go once; a new last-resort key replaces the old', async () => {
    const s = openSqliteStorage(tempDir());
    expect(s.createAccount(account('bob'))).toBe(true);
    expect(s.createAccount({ ...account('bob'), identity: key(8, 131) })).toBe(false);
    expect(s.identity('bob')).toEqual(key(9, 131));
    const first = s.takeBundle('bob')!;
    expect(first.oneTimePreKey?.id).toBe(5);
    expect(first.kemPreKey).toMatchObject({ id: 1, lastResort: true });
    expect(s.takeBundle('bob')!.oneTimePreKey).toBeUndefined();
    s.addPreKeys('bob', { oneTimePreKeys: [], kemPreKeys: [{ id: 2, publicKey: key(6, 1184), lastResort: true, signature: key(4, 64) }] });
    expect(s.takeBundle('bob')!.kemPreKey.id).toBe(2);
    expect(s.takeBundle('nobody')).toBeUndefined();
    await s.close();
  });

  test('a mailbox batch inserts in order and acks only the owner\'s envelopes', async () => {
    const s = openSqliteStorage(tempDir());
    s.createAccount(account('bob'));
    s.createAccount(account('carol'));
    const env = (recipient: string, n: number) => ({ recipient, sender: 'alice', receivedAt: 10, body: key(n, 10) });
    const { ids } = await s.applyMailboxBatch([env('bob', 1), env('bob', 2), env('carol', 3)], []);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const res = await s.applyMailboxBatch([], [{ username: 'carol', ids: [ids[0]!] }, { username: 'bob', ids: [ids[0]!, 999] }]);
    expect(res.acked).toEqual([
      { count: 0, bytes: 0, bySender: new Map() },
      { count: 1, bytes: 10, bySender: new Map([['alice', { count: 1, bytes: 10 }]]) }
    ]);
    expect(s.pendingEnvelopes('bob', 0, 10).map((e) => e.id)).toEqual([ids[1]]);
    expect(s.mailboxUsage('carol')).toEqual({ count: 1, bytes: 10, bySender: new Map([['alice', { count: 1, bytes: 10 }]]) });
    await s.close();
  });

  test('P40 replay pages stop at maxBytes; sweep chunks are bounded and report per mailbox and sender', async () => {
    const s = openSqliteStorage(tempDir());
    const env = (recipient: string, sender: string, at: number, len: number) => ({ recipient, sender, receivedAt: at, body: key(at, len) });
    const { ids } = await s.applyMailboxBatch([env('bob', 'alice', 1, 100), env('bob', 'carol', 2, 100), env('bob', 'alice', 3, 100), env('dave', 'alice', 4, 50), env('bob', 'alice', 50, 100)], []);
    // The envelope that crosses maxBytes is included, so a page is never empty.
    expect(s.pendingEnvelopes('bob', 0, 10, 150).map((e) => e.id)).toEqual([ids[0], ids[1]]);
    expect(s.pendingEnvelopes('bob', 0, 10, 1).map((e) => e.id)).toEqual([ids[0]]);
    expect(s.pendingEnvelopes('bob', 0, 10).length).toBe(4);
    const first = await s.sweepChunk(10, 0, 3);
    expect(first.envelopes).toBe(3);
    expect(first.byRecipient).toEqual(
      new Map([['bob', { count: 3, bytes: 300, bySender: new Map([['alice', { count: 2, bytes: 200 }], ['carol', { count: 1, bytes: 100 }]]) }]])
    );
    const second = await s.sweepChunk(10, 0, 3);
    expect(second.byRecipient).toEqual(new Map([['dave', { count: 1, bytes: 50, bySender: new Map([['alice', { count: 1, bytes: 50 }]]) }]]));
    expect((await s.sweepChunk(10, 0, 3)).envelopes).toBe(0);
    expect(s.mailboxUsage('bob')).toEqual({ count: 1, bytes: 100, bySender: new Map([['alice', { count: 1, bytes: 100 }]]) });
    await s.close();
  });

  test('P40 a last-resort KEM key that would not land rolls the whole upload back', async () => {
    const s = openSqliteStorage(tempDir());
    s.createAccount(account('bob'));
    expect(s.addPreKeys('bob', { oneTimePreKeys: [], kemPreKeys: [{ id: 2, publicKey: key(6, 1184), lastResort: false, signature: key(4, 64) }] })).toBe(true);
    const clash = {
      signedPreKey: { id: 2, publicKey: key(8), signature: key(2, 64) },
      oneTimePreKeys: [{ id: 6, publicKey: key(6) }],
      kemPreKeys: [{ id: 2, publicKey: key(9, 1184), lastResort: true, signature: key(4, 64) }]
    };
    expect(s.addPreKeys('bob', clash)).toBe(false);
    expect(s.preKeyCounts('bob')).toEqual({ oneTime: 1, kem: 1 });
    const parts = s.takeBundle('bob', false)!;
    expect([parts.signedPreKey.id, parts.kemPreKey.id, parts.kemPreKey.lastResort, parts.oneTimePreKey]).toEqual([1, 1, true, undefined]);
    // Without one-time keys nothing one-time was taken.
    expect(s.preKeyCounts('bob')).toEqual({ oneTime: 1, kem: 1 });
    await s.close();
  });
});

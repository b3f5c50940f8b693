/**
 * The SQLite storage adapter on its own: versioned migrations, atomic one-time prekey hand-out,
 * last-resort rotation, and the group-commit batch (inserts and acks in one transaction).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MIGRATIONS } from '../../src/host/storage/migrations';
import { DB_FILE, openSqliteStorage } from '../../src/host/storage/sqlite';
import type { NewAccount } from '../../src/host/storage/types';
import { tempDir } from './support';

const key = (n: number, len = 32) => new Uint8Array(len).fill(n);

function account(username: string): NewAccount {
  return {
    username,
    identity: key(9, 131),
    createdAt: 1,
    preKeys: {
      signedPreKey: { id: 1, publicKey: key(1), signature: key(2, 64) },
      oneTimePreKeys: [{ id: 5, publicKey: key(5) }],
      kemPreKeys: [{ id: 1, publicKey: key(7, 1184), lastResort: true, signature: key(3, 64) }]
    }
  };
}

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
});

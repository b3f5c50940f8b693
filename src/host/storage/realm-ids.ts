/**
 * A PIN realm's user ids at rest (README "Usernames at rest"). Clients name their row by
 * realmUserId(username) = SHA-256(label, username) (DESIGN.md §7), a public hash: anyone holding
 * a realm's database could test guessed names against it and learn who keeps a PIN backup there.
 * So the realm stores HMAC-SHA-256(realm id key, user id) instead, under a key kept outside its
 * database (the built-in realm derives it from the host's name key; a realm process has its own,
 * REALM_ID_KEY or `realm-id.key` in its data directory). As for names, the database keeps the
 * key's check value and refuses another key, and rows an older realm wrote under the plain id are
 * rekeyed at the first start, in the same transaction that stores the check value.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { REALM_DB_FILE } from '../realm/store';
import { compactSqlite, pgBindOnce, sqliteBind, sqliteBound, type KeyBinding } from './key-check';
import type { RealmStorage } from './realm-port';

export interface RealmIdKey {
  /** The row key a user id is stored under. */
  map(userId: Uint8Array): Uint8Array;
  readonly check: Uint8Array;
}

export class RealmIdKeyMismatchError extends Error {
  constructor() {
    super('this realm database was keyed under another realm id key: give every process of this realm the same REALM_ID_KEY (README "Usernames at rest")');
    this.name = 'RealmIdKeyMismatchError';
  }
}

export function realmIdKey(key: Uint8Array): RealmIdKey {
  if (key.length !== 32) throw new Error(`the realm id key must be 32 bytes, got ${key.length}`);
  const sub = (label: string): Buffer => createHmac('sha256', key).update(`parley realm ids v1 ${label}`).digest();
  const kMap = sub('map');
  return {
    check: new Uint8Array(sub('check')),
    map: (userId) => new Uint8Array(createHmac('sha256', kMap).update(userId).digest())
  };
}

/** The built-in realm's key, from the host's name key (name-key.ts): one secret to keep, not two. */
export function builtInRealmIdKey(nameKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', nameKey).update('parley built-in realm id key v1').digest());
}

export function keyedRealmIds(inner: RealmStorage, k: RealmIdKey): RealmStorage {
  return {
    backend: inner.backend,
    transact: (userId, fn) => inner.transact(k.map(userId), fn),
    scrub: () => inner.scrub(),
    close: () => inner.close()
  };
}

const binding = (k: RealmIdKey): KeyBinding => ({ table: 'realm_id_key', check: k.check, mismatch: () => new RealmIdKeyMismatchError() });

/** The realm's SQLite file in dataDir; returns how many rows were rekeyed. */
export function bindSqliteRealmIds(dataDir: string, k: RealmIdKey): number {
  const path = join(dataDir, REALM_DB_FILE);
  const fresh = !existsSync(path);
  const db = new Database(path);
  try {
    // IMMEDIATE: of two processes starting on one file, the second waits and then sees the check.
    const rekey = db.transaction(() => {
      if (sqliteBound(db, binding(k))) return 0;
      let n = 0;
      if (!fresh && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'realm_users'").get() !== undefined) {
        const ids = db.prepare('SELECT user_id FROM realm_users').pluck().all() as Buffer[];
        const update = db.prepare('UPDATE realm_users SET user_id = ? WHERE user_id = ?');
        for (const id of ids) n += update.run(k.map(id), id).changes;
      }
      sqliteBind(db, binding(k));
      return n;
    });
    const n = rekey.immediate();
    if (n > 0) compactSqlite(db);
    return n;
  } finally {
    db.close();
  }
}

/** The realm's PostgreSQL tables; returns how many rows were rekeyed. */
export async function bindPgRealmIds(pool: pg.Pool, k: RealmIdKey): Promise<number> {
  const n =
    (await pgBindOnce(pool, binding(k), async (c) => {
      if ((await c.query<{ r: string | null }>("SELECT to_regclass('realm_users') AS r")).rows[0]?.r == null) return 0;
      const ids = (await c.query<{ user_id: Buffer }>('SELECT user_id FROM realm_users')).rows.map((r) => r.user_id);
      if (ids.length === 0) return 0;
      const r = await c.query('UPDATE realm_users AS u SET user_id = m.mapped FROM unnest($1::bytea[], $2::bytea[]) AS m (plain, mapped) WHERE u.user_id = m.plain', [ids, ids.map((id) => Buffer.from(k.map(id)))]);
      return r.rowCount ?? 0;
    })) ?? 0;
  if (n > 0) await pool.query('VACUUM FULL realm_users');
  return n;
}

/**
 * PushStore on SQLite (push-port.ts; README "Web Push with the tab closed"), in its own file
 * beside the host's (`push.sqlite`, `user_version` migrations), so nothing here touches the
 * mailbox's schema. Secure delete is on: a dropped endpoint is overwritten, not left in free pages.
 * Knows nothing of HTTP or VAPID signing.
 */
import { join } from 'node:path';
import type { PushStore, VapidKeyPair } from './push-port';
import { openSqliteFile } from './sqlite-file';

export const PUSH_FILE = 'push.sqlite';

export const PUSH_MIGRATIONS: readonly string[] = [
  `CREATE TABLE push_subscriptions (
     endpoint TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX push_subscriptions_by_user ON push_subscriptions (username, created_at);
   CREATE TABLE push_vapid_keys (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     public_key TEXT NOT NULL,
     private_key TEXT NOT NULL
   );`
];

export function openSqlitePush(dataDir: string): PushStore {
  const db = openSqliteFile(join(dataDir, PUSH_FILE), PUSH_MIGRATIONS, { schema: 'push', secureDelete: true });
  const q = {
    getKeys: db.prepare<[], { public_key: string; private_key: string }>('SELECT public_key, private_key FROM push_vapid_keys WHERE id = 1'),
    putKeys: db.prepare('INSERT INTO push_vapid_keys (id, public_key, private_key) VALUES (1, ?, ?) ON CONFLICT(id) DO NOTHING'),
    put: db.prepare(
      `INSERT INTO push_subscriptions (endpoint, username, created_at) VALUES (?, ?, ?)
       ON CONFLICT(endpoint) DO UPDATE SET username = excluded.username, created_at = excluded.created_at`
    ),
    trim: db.prepare(
      `DELETE FROM push_subscriptions WHERE username = ? AND endpoint NOT IN
         (SELECT endpoint FROM push_subscriptions WHERE username = ? ORDER BY created_at DESC, endpoint LIMIT ?)`
    ),
    delete: db.prepare('DELETE FROM push_subscriptions WHERE username = ? AND endpoint = ?'),
    drop: db.prepare('DELETE FROM push_subscriptions WHERE endpoint = ?'),
    list: db.prepare<[string], string>('SELECT endpoint FROM push_subscriptions WHERE username = ? ORDER BY created_at DESC, endpoint').pluck()
  };
  const put = db.transaction((username: string, endpoint: string, now: number, max: number) => {
    q.put.run(endpoint, username, now);
    q.trim.run(username, username, max);
  });
  return {
    async getVapidKeys(): Promise<VapidKeyPair | undefined> {
      const r = q.getKeys.get();
      return r && { publicKey: r.public_key, privateKey: r.private_key };
    },
    async putVapidKeysIfAbsent(k) {
      q.putKeys.run(k.publicKey, k.privateKey);
    },
    async putSubscription(username, endpoint, now, max) {
      put(username, endpoint, now, max);
    },
    async deleteSubscription(username, endpoint) {
      return q.delete.run(username, endpoint).changes > 0;
    },
    async dropEndpoint(endpoint) {
      q.drop.run(endpoint);
    },
    async subscriptions(username) {
      return q.list.all(username);
    },
    async close() {
      db.close();
    }
  };
}

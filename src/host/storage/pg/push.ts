/**
 * PushStore on PostgreSQL (push-port.ts; README "Web Push with the tab closed"), so every host
 * instance on one database signs with the same VAPID key and pushes to the same endpoints. Own
 * migration track (`parley_push_schema`). The VAPID pair is stored by the first instance to start
 * (insert-if-absent; the others read it back), so its private key is in the database, as it is in
 * `push.sqlite` on one machine. A registration and the trim to the account's newest few run in one
 * transaction under a per-account advisory lock, so two instances registering for one account at
 * once never leave more than the limit. Knows nothing of HTTP or VAPID signing.
 */
import type pg from 'pg';
import type { PushStore } from '../push-port';
import { inTransaction, migrate, storageError } from './client';

export const PUSH_SCHEMA_TRACK = 'parley_push_schema';
export const PG_PUSH_MIGRATIONS: readonly string[] = [
  `CREATE TABLE push_subscriptions (endpoint text PRIMARY KEY, username text NOT NULL, created_at bigint NOT NULL);
   CREATE INDEX push_subscriptions_by_user ON push_subscriptions (username, created_at);
   CREATE TABLE push_vapid_keys (id integer PRIMARY KEY CHECK (id = 1), public_key text NOT NULL, private_key text NOT NULL);`
];

/** Advisory-lock namespace for per-account registration (first key of pg_advisory_xact_lock(int4, int4)). */
const PUSH_LOCK = 0x70757368; // 'push'

/** The store on `pool` after its migrations; `close` leaves the pool to its owner. */
export async function openPgPush(pool: pg.Pool): Promise<PushStore> {
  await migrate(pool, PUSH_SCHEMA_TRACK, PG_PUSH_MIGRATIONS);
  const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> => {
    try {
      return await pool.query<R>(sql, params);
    } catch (e) {
      throw storageError(e);
    }
  };
  return {
    async getVapidKeys() {
      const r = await query<{ public_key: string; private_key: string }>('SELECT public_key, private_key FROM push_vapid_keys WHERE id = 1', []);
      const row = r.rows[0];
      return row && { publicKey: row.public_key, privateKey: row.private_key };
    },
    async putVapidKeysIfAbsent(k) {
      await query('INSERT INTO push_vapid_keys (id, public_key, private_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [k.publicKey, k.privateKey]);
    },
    async putSubscription(username, endpoint, now, max) {
      await inTransaction(pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PUSH_LOCK, username]);
        await c.query(
          `INSERT INTO push_subscriptions (endpoint, username, created_at) VALUES ($1, $2, $3)
           ON CONFLICT (endpoint) DO UPDATE SET username = excluded.username, created_at = excluded.created_at`,
          [endpoint, username, now]
        );
        await c.query(
          `DELETE FROM push_subscriptions WHERE username = $1 AND endpoint NOT IN
             (SELECT endpoint FROM push_subscriptions WHERE username = $1 ORDER BY created_at DESC, endpoint LIMIT $2)`,
          [username, max]
        );
      });
    },
    async deleteSubscription(username, endpoint) {
      const r = await query('DELETE FROM push_subscriptions WHERE username = $1 AND endpoint = $2', [username, endpoint]);
      return (r.rowCount ?? 0) > 0;
    },
    async dropEndpoint(endpoint) {
      await query('DELETE FROM push_subscriptions WHERE endpoint = $1', [endpoint]);
    },
    async subscriptions(username) {
      const r = await query<{ endpoint: string }>('SELECT endpoint FROM push_subscriptions WHERE username = $1 ORDER BY created_at DESC, endpoint', [username]);
      return r.rows.map((row) => row.endpoint);
    },
    close: async () => undefined
  };
}

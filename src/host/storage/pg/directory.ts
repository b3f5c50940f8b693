/**
 * Directory half of the PostgreSQL HostStore (port.ts): accounts, identity keys, prekeys and
 * the device takeover (DESIGN.md §4, §5; P9, P37).
 *
 * Concurrency: a bundle fetch takes its one-time keys with `FOR UPDATE SKIP LOCKED`, so two
 * fetches on any instances never get the same key and never wait for each other; every change
 * to an account's key set (upload, takeover) first locks the account row, so a last-resort
 * rotation cannot interleave with another. Knows nothing of HTTP, tokens or mailboxes.
 */
import type pg from 'pg';
import type { KemPreKeyPublic, SignedPreKeyPublic } from '../../../lib/crypto/prekeys';
import type { BundleParts, HostStore, StoredPreKeys } from '../port';
import { bytes, inTransaction } from './client';
import { SIGNOUT_CHANNEL } from '../bus-port';

type Directory = Pick<HostStore, 'accountExists' | 'identity' | 'createAccount' | 'addPreKeys' | 'preKeyCounts' | 'takeBundle' | 'takeOverDevice'>;

interface KemRow {
  key_id: number;
  last_resort: boolean;
  public_key: Buffer;
  signature: Buffer;
}

const kemOf = (r: KemRow): KemPreKeyPublic => ({ id: r.key_id, lastResort: r.last_resort, publicKey: bytes(r.public_key), signature: bytes(r.signature) });

/** A last-resort KEM key that would not land: the caller's transaction rolls back (P40). */
class LastResortConflict extends Error {}

/**
 * Stores `keys` for `username` (inside the caller's transaction). A signed prekey replaces the
 * old one; a last-resort KEM key replaces the old last-resort key; key ids already stored are kept
 * as they are. Throws LastResortConflict if the upload names two last-resort keys or its
 * last-resort key's id is already a one-time KEM key's, so the account never lacks one.
 */
export async function insertKeys(c: pg.PoolClient, username: string, keys: StoredPreKeys): Promise<void> {
  const s = keys.signedPreKey;
  if (s) {
    await c.query(
      `INSERT INTO signed_prekeys (username, key_id, public_key, signature) VALUES ($1, $2, $3, $4)
       ON CONFLICT (username) DO UPDATE SET key_id = excluded.key_id, public_key = excluded.public_key, signature = excluded.signature`,
      [username, s.id, s.publicKey, s.signature]
    );
  }
  const ot = keys.oneTimePreKeys;
  if (ot.length > 0) {
    await c.query(
      `INSERT INTO one_time_prekeys (username, key_id, public_key)
       SELECT $1, k.id, k.pk FROM unnest($2::bigint[], $3::bytea[]) AS k (id, pk) ON CONFLICT DO NOTHING`,
      [username, ot.map((k) => k.id), ot.map((k) => k.publicKey)]
    );
  }
  const lastResorts = keys.kemPreKeys.filter((k) => k.lastResort);
  if (lastResorts.length > 1) throw new LastResortConflict();
  const lastResort = lastResorts[0];
  const kem = keys.kemPreKeys.filter((k) => !k.lastResort);
  if (lastResort) {
    await c.query('DELETE FROM kem_prekeys WHERE username = $1 AND last_resort', [username]);
    const r = await c.query(
      'INSERT INTO kem_prekeys (username, key_id, last_resort, public_key, signature) VALUES ($1, $2, true, $3, $4) ON CONFLICT DO NOTHING',
      [username, lastResort.id, lastResort.publicKey, lastResort.signature]
    );
    if (r.rowCount !== 1) throw new LastResortConflict();
  }
  if (kem.length > 0) {
    await c.query(
      `INSERT INTO kem_prekeys (username, key_id, last_resort, public_key, signature)
       SELECT $1, k.id, k.lr, k.pk, k.sig FROM unnest($2::bigint[], $3::boolean[], $4::bytea[], $5::bytea[]) AS k (id, lr, pk, sig)
       ON CONFLICT DO NOTHING`,
      [username, kem.map((k) => k.id), kem.map((k) => k.lastResort), kem.map((k) => k.publicKey), kem.map((k) => k.signature)]
    );
  }
}

/** Locks the account row (inside the caller's transaction); false if there is no such account. */
async function lockAccount(c: pg.PoolClient, username: string): Promise<boolean> {
  const r = await c.query('SELECT 1 FROM accounts WHERE username = $1 FOR UPDATE', [username]);
  return r.rowCount === 1;
}

export function pgDirectory(pool: pg.Pool): Directory {
  return {
    async accountExists(username) {
      const r = await pool.query({ name: 'account-exists', text: 'SELECT 1 FROM accounts WHERE username = $1', values: [username] });
      return r.rowCount === 1;
    },

    async identity(username) {
      const r = await pool.query<{ identity: Buffer }>({ name: 'identity', text: 'SELECT identity FROM accounts WHERE username = $1', values: [username] });
      return r.rows[0] ? bytes(r.rows[0].identity) : undefined;
    },

    createAccount: (a) =>
      inTransaction(pool, async (c) => {
        const r = await c.query('INSERT INTO accounts (username, identity, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [a.username, a.identity, a.createdAt]);
        if (r.rowCount !== 1) return false;
        await insertKeys(c, a.username, a.preKeys);
        // The mailbox's usage row is also its lock (schema.ts): it exists from the start.
        await c.query('INSERT INTO mailbox_usage (username, envelopes, bytes) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING', [a.username]);
        return true;
      }),

    async addPreKeys(username, keys) {
      try {
        await inTransaction(pool, async (c) => {
          if (await lockAccount(c, username)) await insertKeys(c, username, keys);
        });
        return true;
      } catch (e) {
        if (e instanceof LastResortConflict) return false;
        throw e;
      }
    },

    async preKeyCounts(username) {
      const r = await pool.query<{ ot: number; kem: number }>({
        name: 'prekey-counts',
        text: `SELECT (SELECT count(*) FROM one_time_prekeys WHERE username = $1)::integer AS ot,
                      (SELECT count(*) FROM kem_prekeys WHERE username = $1 AND NOT last_resort)::integer AS kem`,
        values: [username]
      });
      return { oneTime: r.rows[0]!.ot, kem: r.rows[0]!.kem };
    },

    takeBundle: (username, oneTime = true) =>
      inTransaction(pool, async (c): Promise<BundleParts | undefined> => {
        const head = await c.query<{ identity: Buffer; key_id: number; public_key: Buffer; signature: Buffer }>(
          'SELECT a.identity, s.key_id, s.public_key, s.signature FROM accounts AS a JOIN signed_prekeys AS s USING (username) WHERE a.username = $1',
          [username]
        );
        const h = head.rows[0];
        if (!h) return undefined;
        const signedPreKey: SignedPreKeyPublic = { id: h.key_id, publicKey: bytes(h.public_key), signature: bytes(h.signature) };
        const oneTimeKem = !oneTime ? { rows: [] as KemRow[] } : await c.query<KemRow>(
          `DELETE FROM kem_prekeys WHERE username = $1 AND key_id =
             (SELECT key_id FROM kem_prekeys WHERE username = $1 AND NOT last_resort ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING key_id, last_resort, public_key, signature`,
          [username]
        );
        const kemRow = oneTimeKem.rows[0] ?? (await c.query<KemRow>('SELECT key_id, last_resort, public_key, signature FROM kem_prekeys WHERE username = $1 AND last_resort', [username])).rows[0];
        if (!kemRow) return undefined;
        const ot = !oneTime ? { rows: [] as { key_id: number; public_key: Buffer }[] } : await c.query<{ key_id: number; public_key: Buffer }>(
          `DELETE FROM one_time_prekeys WHERE username = $1 AND key_id =
             (SELECT key_id FROM one_time_prekeys WHERE username = $1 ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING key_id, public_key`,
          [username]
        );
        const parts: BundleParts = { identity: bytes(h.identity), signedPreKey, kemPreKey: kemOf(kemRow) };
        const o = ot.rows[0];
        if (o) parts.oneTimePreKey = { id: o.key_id, publicKey: bytes(o.public_key) };
        return parts;
      }),

    takeOverDevice: (username, keys, deviceHash) =>
      inTransaction(pool, async (c) => {
        if (!(await lockAccount(c, username))) return;
        await c.query('DELETE FROM one_time_prekeys WHERE username = $1', [username]);
        await c.query('DELETE FROM kem_prekeys WHERE username = $1', [username]);
        await c.query('DELETE FROM tokens WHERE username = $1', [username]);
        await insertKeys(c, username, keys);
        await c.query(
          'INSERT INTO devices (username, device_hash) VALUES ($1, $2) ON CONFLICT (username) DO UPDATE SET device_hash = excluded.device_hash',
          [username, deviceHash]
        );
        // Every instance closes the old browser's sockets (pg/bus.ts), delivered only on commit.
        await c.query('SELECT pg_notify($1, $2)', [SIGNOUT_CHANNEL, username]);
      })
  };
}

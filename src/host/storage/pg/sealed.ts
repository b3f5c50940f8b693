/**
 * SealedStore on PostgreSQL (sealed-port.ts; SECURITY.md P41), so every host instance on one
 * database checks the same delivery-token verifiers and signs sender certificates with the same
 * certificate key. Own migration track (`parley_sealed_schema`), one small pool shared with the
 * other side stores (open.ts `openSideStores`).
 *
 * The keys: with SEALED_KEYS_FILE (production) nothing is stored here; every instance must be
 * given the same file (README "Several host instances"). Without it (development) the first
 * instance to start makes the trust root and the certificate key and the others read them:
 * `putCertificateKey`/`putDevelopmentRoot` keep the first writer's row, so instances racing at
 * start end up with one key, which sealed.ts re-reads after writing; a replacement (the
 * development key's yearly renewal) names the row it replaces, so of two instances renewing at
 * once one wins and both then use its key. A development root's private
 * key is then in the database, as it is in `sealed.sqlite` on one machine: never for production.
 * Knows nothing of what the stored bytes mean.
 */
import type pg from 'pg';
import type { SealedStore, StoredKeyPair } from '../sealed-port';
import { bytes, migrate } from './client';

export const SEALED_SCHEMA_TRACK = 'parley_sealed_schema';
export const PG_SEALED_MIGRATIONS: readonly string[] = [
  `CREATE TABLE sealed_access (username text PRIMARY KEY, access bytea NOT NULL, updated_at bigint NOT NULL);
   CREATE TABLE sealed_signing_keys (
     role text PRIMARY KEY CHECK (role IN ('certificate', 'development-root')),
     public_part bytea NOT NULL,
     private_key bytea NOT NULL
   );`
];

/** The store on `pool` after its migrations; `close` leaves the pool to its owner. */
export async function openPgSealed(pool: pg.Pool): Promise<SealedStore> {
  await migrate(pool, SEALED_SCHEMA_TRACK, PG_SEALED_MIGRATIONS);
  const getKey = async (role: string): Promise<StoredKeyPair | undefined> => {
    const r = await pool.query<{ public_part: Buffer; private_key: Buffer }>('SELECT public_part, private_key FROM sealed_signing_keys WHERE role = $1', [role]);
    const row = r.rows[0];
    return row && { publicPart: bytes(row.public_part), privateKey: bytes(row.private_key) };
  };
  // One statement: stored if absent, or replacing exactly the row the caller read (`replaces`).
  const putKey = async (role: string, k: StoredKeyPair, replaces?: Uint8Array): Promise<void> => {
    await pool.query(
      `INSERT INTO sealed_signing_keys AS s (role, public_part, private_key) VALUES ($1, $2, $3)
       ON CONFLICT (role) DO UPDATE SET public_part = excluded.public_part, private_key = excluded.private_key
       WHERE s.public_part = $4`,
      [role, k.publicPart, k.privateKey, replaces ?? null]
    );
  };
  return {
    async getAccess(username) {
      const r = await pool.query<{ access: Buffer }>('SELECT access FROM sealed_access WHERE username = $1', [username]);
      return r.rows[0] ? bytes(r.rows[0].access) : undefined;
    },
    async putAccess(username, access, now) {
      await pool.query(
        `INSERT INTO sealed_access (username, access, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (username) DO UPDATE SET access = excluded.access, updated_at = excluded.updated_at`,
        [username, access, now]
      );
    },
    getCertificateKey: () => getKey('certificate'),
    putCertificateKey: (k, replaces) => putKey('certificate', k, replaces),
    getDevelopmentRoot: () => getKey('development-root'),
    putDevelopmentRoot: (k) => putKey('development-root', k),
    close: () => undefined
  };
}

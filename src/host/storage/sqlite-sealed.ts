/**
 * SealedStore on SQLite (sealed-port.ts; SECURITY.md P41), in its own file next to the host's
 * (`sealed.sqlite`, own tables and `user_version` migrations), so nothing here touches the
 * mailbox's hot path or its schema. Knows nothing of what the stored bytes mean.
 */
import { join } from 'node:path';
import type { SealedStore, StoredKeyPair } from './sealed-port';
import { openSqliteFile } from './sqlite-file';

export const SEALED_FILE = 'sealed.sqlite';

export const SEALED_MIGRATIONS: readonly string[] = [
  `CREATE TABLE sealed_access (
     username TEXT PRIMARY KEY,
     access BLOB NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE signing_keys (
     role TEXT PRIMARY KEY CHECK (role IN ('certificate', 'development-root')),
     public_part BLOB NOT NULL,
     private_key BLOB NOT NULL
   );`
];

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b);

export function openSqliteSealed(dataDir: string): SealedStore {
  const db = openSqliteFile(join(dataDir, SEALED_FILE), SEALED_MIGRATIONS, { schema: 'sealed' });
  const q = {
    getAccess: db.prepare<[string], Buffer>('SELECT access FROM sealed_access WHERE username = ?').pluck(),
    putAccess: db.prepare(
      `INSERT INTO sealed_access (username, access, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(username) DO UPDATE SET access = excluded.access, updated_at = excluded.updated_at`
    ),
    getKey: db.prepare<[string], { public_part: Buffer; private_key: Buffer }>('SELECT public_part, private_key FROM signing_keys WHERE role = ?'),
    // First writer wins; a replacement names the row it replaces (sealed-port.ts).
    putKey: db.prepare(
      `INSERT INTO signing_keys (role, public_part, private_key) VALUES (?, ?, ?)
       ON CONFLICT(role) DO UPDATE SET public_part = excluded.public_part, private_key = excluded.private_key
       WHERE signing_keys.public_part = ?`
    )
  };
  const getKey = (role: string): StoredKeyPair | undefined => {
    const r = q.getKey.get(role);
    return r && { publicPart: u8(r.public_part), privateKey: u8(r.private_key) };
  };
  return {
    async getAccess(username) {
      const b = q.getAccess.get(username);
      return b ? u8(b) : undefined;
    },
    async putAccess(username, access, now) {
      q.putAccess.run(username, access, now);
    },
    getCertificateKey: async () => getKey('certificate'),
    async putCertificateKey(k, replaces) {
      q.putKey.run('certificate', k.publicPart, k.privateKey, replaces ?? null);
    },
    getDevelopmentRoot: async () => getKey('development-root'),
    async putDevelopmentRoot(k) {
      q.putKey.run('development-root', k.publicPart, k.privateKey, null);
    },
    close: () => db.close()
  };
}

/**
 * The default HostStorage on one SQLite file (better-sqlite3, DESIGN.md §3).
 *
 * Durability: WAL with synchronous=FULL. In WAL mode NORMAL already survives a process kill
 * (SIGKILL, P34), but a power loss can drop the last commits; FULL fsyncs the WAL on every
 * commit, so a 'stored' ack is true even across power loss. The cost is one fsync per commit,
 * which the mailbox amortises by committing every event-loop tick's envelopes in one
 * transaction (group commit, mailbox.ts). Knows nothing of HTTP, tokens in clear, or crypto.
 *
 * Full disk (P40): `maxBytes` caps the database with max_page_count on every connection, so the
 * host meets SQLITE_FULL before the disk does and the WAL still has room for the deletes that
 * acks and the sweep make (a real ENOSPC takes the same path). SQLITE_FULL surfaces as
 * StorageFullError. Secure delete (P40): secure_delete zeroes freed cells and pages, and the
 * writer truncates the WAL after deletes (writer.ts).
 */
import { join } from 'node:path';
import type { KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic } from '../../lib/crypto/prekeys';
import { MIGRATIONS } from './migrations';
import { openSqliteFile } from './sqlite-file';
import { startMailboxWriter } from './writer';
import { StorageFullError, type BundleParts, type HostStorage, type MailboxTally, type MailboxUsage, type NewAccount, type StoredEnvelope, type StoredPreKeys } from './types';

export const DB_FILE = 'parley.sqlite';

type Row = Record<string, unknown>;
const u8 = (b: unknown): Uint8Array => new Uint8Array(b as Buffer);

function kemFromRow(r: Row): KemPreKeyPublic {
  return { id: r.key_id as number, lastResort: r.last_resort === 1, publicKey: u8(r.public_key), signature: u8(r.signature) };
}

/** Translates SQLite's "database or disk is full" into the port's StorageFullError. */
function guard<A extends unknown[], R>(f: (...a: A) => R): (...a: A) => R {
  return (...a) => {
    try {
      return f(...a);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'SQLITE_FULL') throw new StorageFullError('SQLITE_FULL');
      throw e;
    }
  };
}

export interface SqliteOptions {
  /** Largest database file in bytes (0: no cap but the disk). */
  maxBytes?: number;
}

/** A last-resort KEM key that did not end up stored: the whole upload is rolled back. */
class LastResortConflict extends Error {
  constructor() {
    super('a last-resort KEM prekey reuses a stored KEM prekey id, or an upload names two');
  }
}

export function openSqliteStorage(dataDir: string, opts: SqliteOptions = {}): HostStorage {
  const file = join(dataDir, DB_FILE);
  const db = openSqliteFile(file, MIGRATIONS, { schema: 'database', foreignKeys: true, secureDelete: true });
  const schemaVersion = MIGRATIONS.length;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const maxPageCount = opts.maxBytes ? Math.max(1, Math.floor(opts.maxBytes / pageSize)) : 0;
  if (maxPageCount) db.pragma(`max_page_count = ${maxPageCount}`);
  // Envelope writes and WAL checkpoints run in a worker thread (writer.ts), off the event loop.
  // Writes here use BEGIN IMMEDIATE so they queue on the write lock (busy_timeout) instead of
  // failing with a stale read snapshot when the writer committed in between.
  db.pragma('wal_autocheckpoint = 0');
  const writer = startMailboxWriter(file, { maxPageCount });

  const q = {
    exists: db.prepare('SELECT 1 FROM accounts WHERE username = ?').pluck(),
    insertAccount: db.prepare('INSERT OR IGNORE INTO accounts (username, identity, created_at) VALUES (?, ?, ?)'),
    identity: db.prepare('SELECT identity FROM accounts WHERE username = ?').pluck(),
    upsertSigned: db.prepare(
      `INSERT INTO signed_prekeys (username, key_id, public_key, signature) VALUES (?, ?, ?, ?)
       ON CONFLICT(username) DO UPDATE SET key_id = excluded.key_id, public_key = excluded.public_key, signature = excluded.signature`
    ),
    signed: db.prepare('SELECT key_id, public_key, signature FROM signed_prekeys WHERE username = ?'),
    insertOneTime: db.prepare('INSERT OR IGNORE INTO one_time_prekeys (username, key_id, public_key) VALUES (?, ?, ?)'),
    takeOneTime: db.prepare(
      `DELETE FROM one_time_prekeys WHERE rowid =
         (SELECT rowid FROM one_time_prekeys WHERE username = ? ORDER BY key_id LIMIT 1)
       RETURNING key_id, public_key`
    ),
    insertKem: db.prepare('INSERT OR IGNORE INTO kem_prekeys (username, key_id, last_resort, public_key, signature) VALUES (?, ?, ?, ?, ?)'),
    dropLastResort: db.prepare('DELETE FROM kem_prekeys WHERE username = ? AND last_resort = 1'),
    takeKem: db.prepare(
      `DELETE FROM kem_prekeys WHERE rowid =
         (SELECT rowid FROM kem_prekeys WHERE username = ? AND last_resort = 0 ORDER BY key_id LIMIT 1)
       RETURNING key_id, last_resort, public_key, signature`
    ),
    lastResort: db.prepare('SELECT key_id, last_resort, public_key, signature FROM kem_prekeys WHERE username = ? AND last_resort = 1'),
    countOneTime: db.prepare('SELECT count(*) FROM one_time_prekeys WHERE username = ?').pluck(),
    countKem: db.prepare('SELECT count(*) FROM kem_prekeys WHERE username = ? AND last_resort = 0').pluck(),
    putToken: db.prepare('INSERT OR REPLACE INTO tokens (hash, username, expires_at) VALUES (?, ?, ?)'),
    tokenUser: db.prepare('SELECT username FROM tokens WHERE hash = ? AND expires_at > ?').pluck(),
    pending: db.prepare(
      'SELECT id, recipient, sender, received_at, body FROM envelopes WHERE recipient = ? AND id > ? ORDER BY id LIMIT ?'
    ),
    usage: db.prepare('SELECT sender, count(*) AS count, sum(length(body)) AS bytes FROM envelopes WHERE recipient = ? GROUP BY sender')
  };

  /** Inside a transaction; throws LastResortConflict rather than lose the last-resort key. */
  function addKeys(username: string, keys: StoredPreKeys): void {
    if (keys.signedPreKey) {
      const s = keys.signedPreKey;
      q.upsertSigned.run(username, s.id, s.publicKey, s.signature);
    }
    for (const k of keys.oneTimePreKeys) q.insertOneTime.run(username, k.id, k.publicKey);
    let lastResorts = 0;
    for (const k of keys.kemPreKeys) {
      // A new last-resort key replaces the old one (rotation); only one is ever served. Replayed
      // one-time keys are ignored, but a last-resort key must land, or bundles would have none.
      if (k.lastResort) q.dropLastResort.run(username);
      const stored = q.insertKem.run(username, k.id, k.lastResort ? 1 : 0, k.publicKey, k.signature).changes === 1;
      if (k.lastResort && (!stored || ++lastResorts > 1)) throw new LastResortConflict();
    }
  }

  /** Runs a key-adding transaction; false (rolled back) on a last-resort conflict. */
  function keysLanded(run: () => unknown): boolean {
    try {
      run();
      return true;
    } catch (e) {
      if (e instanceof LastResortConflict) return false;
      throw e;
    }
  }

  const createAccount = db.transaction((a: NewAccount): boolean => {
    if (q.insertAccount.run(a.username, a.identity, a.createdAt).changes === 0) return false;
    addKeys(a.username, a.preKeys);
    return true;
  });

  const takeBundle = db.transaction((username: string, oneTime: boolean): BundleParts | undefined => {
    const identity = q.identity.get(username) as Buffer | undefined;
    const s = q.signed.get(username) as Row | undefined;
    if (!identity || !s) return undefined;
    const signedPreKey: SignedPreKeyPublic = { id: s.key_id as number, publicKey: u8(s.public_key), signature: u8(s.signature) };
    const ot = oneTime ? (q.takeOneTime.get(username) as Row | undefined) : undefined;
    const kemRow = ((oneTime ? q.takeKem.get(username) : undefined) ?? q.lastResort.get(username)) as Row | undefined;
    if (!kemRow) return undefined;
    const parts: BundleParts = { identity: u8(identity), signedPreKey, kemPreKey: kemFromRow(kemRow) };
    if (ot) parts.oneTimePreKey = { id: ot.key_id as number, publicKey: u8(ot.public_key) } satisfies OneTimePreKeyPublic;
    return parts;
  });

  const putTokenTx = db.transaction((hash: Uint8Array, username: string, expiresAt: number) => q.putToken.run(hash, username, expiresAt));
  const addPreKeysTx = db.transaction((username: string, keys: StoredPreKeys) => addKeys(username, keys));

  const dropDevice = {
    oneTime: db.prepare('DELETE FROM one_time_prekeys WHERE username = ?'),
    kem: db.prepare('DELETE FROM kem_prekeys WHERE username = ?'),
    tokens: db.prepare('DELETE FROM tokens WHERE username = ?'),
    gate: db.prepare(
      'INSERT INTO device_gates (username, device_hash) VALUES (?, ?) ON CONFLICT(username) DO UPDATE SET device_hash = excluded.device_hash'
    )
  };
  const deviceHash = db.prepare('SELECT device_hash FROM device_gates WHERE username = ?').pluck();
  const replaceDevice = db.transaction((username: string, keys: StoredPreKeys, hash: Uint8Array) => {
    dropDevice.oneTime.run(username);
    dropDevice.kem.run(username);
    dropDevice.tokens.run(username);
    addKeys(username, keys);
    dropDevice.gate.run(username, hash);
  });

  return {
    schemaVersion,
    accountExists: (username) => q.exists.get(username) === 1,
    identity(username) {
      const b = q.identity.get(username) as Buffer | undefined;
      return b ? u8(b) : undefined;
    },
    createAccount: guard((a: NewAccount) => createAccount.immediate(a)),
    addPreKeys: guard((username, keys) => keysLanded(() => addPreKeysTx.immediate(username, keys))),
    preKeyCounts: (username) => ({ oneTime: q.countOneTime.get(username) as number, kem: q.countKem.get(username) as number }),
    takeBundle: guard((username, oneTime = true) => takeBundle.immediate(username, oneTime)),
    putToken: guard((hash, username, expiresAt) => void putTokenTx.immediate(hash, username, expiresAt)),
    tokenUser: (hash, now) => q.tokenUser.get(hash, now) as string | undefined,
    applyMailboxBatch: (inserts, acks) => writer.apply(inserts, acks),
    pendingEnvelopes(username, afterId, limit, maxBytes = Infinity) {
      const out: StoredEnvelope[] = [];
      let bytes = 0;
      // Stepping row by row reads no more bodies than the page takes (P40: bounded replay memory).
      for (const r of q.pending.iterate(username, afterId, limit) as IterableIterator<Row>) {
        const body = u8(r.body);
        out.push({ id: r.id as number, recipient: r.recipient as string, sender: r.sender as string, receivedAt: r.received_at as number, body });
        bytes += body.length;
        if (bytes >= maxBytes) break;
      }
      return out;
    },
    mailboxUsage(username) {
      const tally: MailboxTally = { count: 0, bytes: 0, bySender: new Map() };
      for (const r of q.usage.all(username) as (MailboxUsage & { sender: string })[]) {
        tally.count += r.count;
        tally.bytes += r.bytes;
        tally.bySender.set(r.sender, { count: r.count, bytes: r.bytes });
      }
      return tally;
    },
    replaceDevice: guard((username, keys, hash) => void replaceDevice.immediate(username, keys, hash)),
    deviceHash(username) {
      const b = deviceHash.get(username) as Buffer | undefined;
      return b ? u8(b) : undefined;
    },
    sweepChunk: (before, now, limit) => writer.sweepChunk(before, now, limit),
    async close() {
      await writer.stop();
      try {
        // Fold the WAL back into the main file so a copy of the data dir is one consistent file.
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        // On a full disk the checkpoint fails; the WAL keeps every commit and is read on the next start.
        db.close();
      }
    }
  };
}

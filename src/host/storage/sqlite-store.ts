/**
 * The HostStore (port.ts) on SQLite: the embedded default for ONE host process (`npm start`).
 * It wraps the synchronous adapter (sqlite.ts, with its group-commit writer thread) and the
 * account-record file (sqlite-records.ts) in the async port, and keeps in memory what only
 * matters within one process: outstanding challenges, rate windows (rate-limit.ts) and mailbox
 * usage for quota admission (sqlite-admission.ts). Several processes on one SQLite file are not
 * supported; that is what the PostgreSQL store is for.
 *
 * Takeover (P37): prekeys, tokens and the device gate change in ONE transaction of the host
 * database (sqlite.ts replaceDevice). Full disk (P40): `maxBytes` caps the host database and
 * SQLITE_FULL surfaces as StorageFullError. Knows nothing of HTTP or crypto.
 */
import { toBase64Url } from '../../lib/codec/base64url';
import { createLimiter, type Limiter } from '../rate-limit';
import type { HostStore, StoreBatchResult } from './port';
import type { MailboxUsage } from './types';
import { createAdmission } from './sqlite-admission';
import { sweepFailed } from './types';
import { openSqliteRecords } from './sqlite-records';
import { openSqliteStorage } from './sqlite';

/** The port counts totals only (the synchronous adapter also counts per sender). */
const totals = (u: MailboxUsage): MailboxUsage => ({ count: u.count, bytes: u.bytes });

export interface SqliteStoreOptions {
  /** Largest host database in bytes (0: only the disk); limits.ts maxDatabaseBytes. */
  maxBytes?: number;
  /** Outstanding challenges held at most, oldest dropped first; limits.ts maxChallenges. */
  maxChallenges?: number;
  /** Rows per sweep transaction; limits.ts sweepChunk. */
  sweepChunk?: number;
}

export function openSqliteStore(dataDir: string, o: SqliteStoreOptions = {}): HostStore {
  const MAX_CHALLENGES = o.maxChallenges ?? 100_000;
  const SWEEP_CHUNK = o.sweepChunk ?? 1000;
  const storage = openSqliteStorage(dataDir, { maxBytes: o.maxBytes ?? 0 });
  const records = openSqliteRecords(dataDir);
  const admission = createAdmission((u) => storage.mailboxUsage(u));
  const challenges = new Map<string, number>();
  let clockNow = 0;
  const limiters = new Map<string, Limiter>();

  function pruneChallenges(now: number): void {
    for (const [k, exp] of challenges) if (exp <= now) challenges.delete(k);
    for (const k of challenges.keys()) {
      if (challenges.size < MAX_CHALLENGES) break;
      challenges.delete(k);
    }
  }

  return {
    backend: 'sqlite',
    schemaVersion: storage.schemaVersion,
    accountExists: async (username) => storage.accountExists(username),
    identity: async (username) => storage.identity(username),
    createAccount: async (a) => storage.createAccount(a),
    addPreKeys: async (username, keys) => storage.addPreKeys(username, keys),
    preKeyCounts: async (username) => storage.preKeyCounts(username),
    takeBundle: async (username, oneTime) => storage.takeBundle(username, oneTime),

    async putChallenge(challenge, expiresAt) {
      if (challenges.size >= MAX_CHALLENGES) pruneChallenges(expiresAt);
      challenges.set(toBase64Url(challenge), expiresAt);
    },
    async takeChallenge(challenge, now) {
      const key = toBase64Url(challenge);
      const exp = challenges.get(key);
      challenges.delete(key);
      return exp !== undefined && exp > now;
    },
    putToken: async (hash, username, expiresAt) => storage.putToken(hash, username, expiresAt),
    tokenUser: async (hash, now) => storage.tokenUser(hash, now),

    // The gate lives beside the prekeys (P37); rows a pre-P37 host wrote in the records file still count.
    records: { ...records, deviceHash: async (username) => storage.deviceHash(username) ?? (await records.deviceHash(username)) },
    async takeOverDevice(username, keys, deviceHash) {
      // P37: prekeys, tokens and the device gate in ONE transaction of the host database.
      storage.replaceDevice(username, keys, deviceHash);
    },

    async applyMailboxBatch(inserts, acks, quota) {
      const { outcome, touched } = admission.decide(inserts, acks.map((a) => a.username), quota);
      const admitted = inserts.filter((_, i) => outcome[i] === true);
      let result;
      try {
        result = await storage.applyMailboxBatch(admitted, acks);
      } catch (e) {
        admission.settle(inserts, outcome, touched, undefined);
        throw e;
      }
      admission.settle(inserts, outcome, touched, { acked: result.acked, ackUsers: acks.map((a) => a.username) });
      let next = 0;
      const ids: StoreBatchResult['ids'] = outcome.map((o) => (o === true ? result.ids[next++]! : o));
      return { ids, acked: result.acked.map(totals) };
    },
    pendingEnvelopes: async (username, afterId, limit, maxBytes) => storage.pendingEnvelopes(username, afterId, limit, maxBytes),
    mailboxUsage: async (username) => totals(storage.mailboxUsage(username)),

    async hitRate(key, window, now, weight = 1) {
      // One limiter per window; callers prefix keys with what they limit.
      const name = `${window.max}/${window.windowMs}`;
      let l = limiters.get(name);
      if (!l) limiters.set(name, (l = createLimiter(window, () => clockNow)));
      clockNow = now;
      return l.hit(key, weight);
    },

    async sweep(before, now) {
      pruneChallenges(now);
      // In bounded chunks, queued between mailbox batches (P40).
      let n = 0;
      try {
        for (;;) {
          const chunk = await storage.sweepChunk(before, now, SWEEP_CHUNK);
          n += chunk.envelopes;
          if (chunk.envelopes < SWEEP_CHUNK && chunk.tokens < SWEEP_CHUNK) break;
        }
      } catch (e) {
        throw sweepFailed(e, n);
      } finally {
        if (n > 0) admission.invalidate();
      }
      return n;
    },
    async close() {
      await storage.close();
      records.close();
    }
  };
}

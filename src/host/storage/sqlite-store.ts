/**
 * The HostStore (port.ts) on SQLite: the embedded default for ONE host process (`npm start`).
 * It wraps the synchronous adapter (sqlite.ts, with its group-commit writer thread) and the
 * account-record file (sqlite-records.ts) in the async port, and keeps in memory what only
 * matters within one process: outstanding challenges, rate windows (rate-limit.ts) and mailbox
 * usage for quota admission (sqlite-admission.ts). Several processes on one SQLite file are not
 * supported; that is what the PostgreSQL store is for.
 *
 * Takeover (P37) touches two files, so it is two commits: prekeys and tokens first (the old
 * browser's sessions end), then the device gate. A crash between them leaves the old browser
 * able to log in again until the client repeats the takeover, which it does until it succeeds.
 * Knows nothing of HTTP or crypto.
 */
import { toBase64Url } from '../../lib/codec/base64url';
import { createLimiter, type Limiter } from '../rate-limit';
import type { HostStore, MailboxUsage, StoreBatchResult } from './port';
import { createAdmission } from './sqlite-admission';
import { openSqliteRecords } from './sqlite-records';
import { openSqliteStorage } from './sqlite';

/** The port counts totals only (the synchronous adapter also counts per sender). */
const totals = (u: MailboxUsage): MailboxUsage => ({ count: u.count, bytes: u.bytes });

/** Rows per sweep transaction, as limits.ts sweepChunk. */
const SWEEP_CHUNK = 1000;

/** Outstanding challenges held at most (oldest dropped first), as limits.ts maxChallenges. */
const MAX_CHALLENGES = 100_000;

export function openSqliteStore(dataDir: string): HostStore {
  const storage = openSqliteStorage(dataDir);
  const records = openSqliteRecords(dataDir);
  const admission = createAdmission((u) => totals(storage.mailboxUsage(u)));
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
    async addPreKeys(username, keys) {
      // The synchronous adapter refuses (and rolls back) an upload whose last-resort KEM key would
      // not land (P40); this port has no answer for that yet, so it is an error, never a silent loss.
      if (!storage.addPreKeys(username, keys)) throw new Error('last-resort KEM prekey id already in use; nothing stored');
    },
    preKeyCounts: async (username) => storage.preKeyCounts(username),
    takeBundle: async (username) => storage.takeBundle(username),

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
      const acked = new Map<string, MailboxUsage>();
      acks.forEach((a, k) => {
        const d = result.acked[k]!;
        const t = acked.get(a.username) ?? { count: 0, bytes: 0 };
        acked.set(a.username, { count: t.count + d.count, bytes: t.bytes + d.bytes });
      });
      admission.settle(inserts, outcome, touched, { acked });
      let next = 0;
      const ids: StoreBatchResult['ids'] = outcome.map((o) => (o === true ? result.ids[next++]! : o));
      return { ids, acked: result.acked.map(totals) };
    },
    pendingEnvelopes: async (username, afterId, limit) => storage.pendingEnvelopes(username, afterId, limit),
    mailboxUsage: async (username) => totals(storage.mailboxUsage(username)),

    async hitRate(key, window, now) {
      const name = `${window.max}/${window.windowMs}`;
      let l = limiters.get(name);
      if (!l) limiters.set(name, (l = createLimiter(window, () => clockNow)));
      clockNow = now;
      return l.hit(key);
    },

    async sweep(before, now) {
      pruneChallenges(now);
      // In bounded chunks, queued between mailbox batches (P40).
      let n = 0;
      for (;;) {
        const chunk = await storage.sweepChunk(before, now, SWEEP_CHUNK);
        n += chunk.envelopes;
        if (chunk.envelopes < SWEEP_CHUNK && chunk.tokens < SWEEP_CHUNK) break;
      }
      if (n > 0) admission.invalidate();
      return n;
    },
    async close() {
      await storage.close();
      records.close();
    }
  };
}

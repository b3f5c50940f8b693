/**
 * Mailbox quota admission for the single-process SQLite store (port.ts applyMailboxBatch): the
 * same FIFO rule the PostgreSQL batch applies in SQL, decided in memory because one process owns
 * the SQLite file. Each mailbox's usage is loaded once and kept in step with every commit; what
 * is admitted but not yet committed counts against the quota too, so batches in flight together
 * can never overfill a mailbox.
 *
 * A mailbox touched by a batch in flight is pinned: its entry cannot be reloaded from the
 * database meanwhile, which could otherwise count an unresolved commit twice. A retention sweep
 * drops unpinned entries and marks pinned ones stale (reloaded once unpinned); a stale entry
 * only ever over-counts, so a sweep can make admission stricter for a moment, never looser.
 * Knows nothing of SQL.
 */
import type { MailboxQuota, MailboxUsage, NewEnvelope, QuotaRefusal } from './port';

interface Entry {
  /** Committed usage. */
  count: number;
  bytes: number;
  /** Admitted, commit pending. */
  inCount: number;
  inBytes: number;
  pinned: number;
  stale: boolean;
}

export interface Admission {
  /** Per insert: admitted (true) or the refusal; `touched` must be settled with `settle`. */
  decide(inserts: NewEnvelope[], ackUsers: string[], quota: MailboxQuota): { outcome: (true | QuotaRefusal)[]; touched: Set<string> };
  /** After the batch: committed (with what acks deleted per user) or failed. */
  settle(inserts: NewEnvelope[], outcome: (true | QuotaRefusal)[], touched: Set<string>, committed: { acked: Map<string, MailboxUsage> } | undefined): void;
  /** After a retention sweep deleted envelopes. */
  invalidate(): void;
}

export function createAdmission(load: (username: string) => MailboxUsage): Admission {
  const usage = new Map<string, Entry>();

  function entry(username: string): Entry {
    let e = usage.get(username);
    if (!e) {
      const u = load(username);
      e = { count: u.count, bytes: u.bytes, inCount: 0, inBytes: 0, pinned: 0, stale: false };
      usage.set(username, e);
    }
    return e;
  }

  return {
    decide(inserts, ackUsers, quota) {
      const touched = new Set<string>([...inserts.map((i) => i.recipient), ...ackUsers]);
      for (const u of touched) entry(u).pinned++;
      // Running totals per mailbox count refused envelopes too: FIFO within the batch.
      const run = new Map<string, { count: number; bytes: number }>();
      const outcome = inserts.map((ins): true | QuotaRefusal => {
        const e = usage.get(ins.recipient)!;
        const r = run.get(ins.recipient) ?? { count: e.count + e.inCount, bytes: e.bytes + e.inBytes };
        run.set(ins.recipient, r);
        r.count += 1;
        r.bytes += ins.body.length;
        if (r.count > quota.maxCount) return 'count';
        if (r.bytes > quota.maxBytes) return 'bytes';
        e.inCount += 1;
        e.inBytes += ins.body.length;
        return true;
      });
      return { outcome, touched };
    },

    settle(inserts, outcome, touched, committed) {
      inserts.forEach((ins, i) => {
        if (outcome[i] !== true) return;
        const e = usage.get(ins.recipient)!;
        e.inCount -= 1;
        e.inBytes -= ins.body.length;
        if (committed) {
          e.count += 1;
          e.bytes += ins.body.length;
        }
      });
      for (const [u, d] of committed?.acked ?? []) {
        const e = usage.get(u)!;
        e.count = Math.max(0, e.count - d.count);
        e.bytes = Math.max(0, e.bytes - d.bytes);
      }
      for (const u of touched) {
        const e = usage.get(u)!;
        if (--e.pinned === 0 && e.stale) usage.delete(u);
      }
    },

    invalidate() {
      for (const [u, e] of usage) {
        if (e.pinned === 0) usage.delete(u);
        else e.stale = true;
      }
    }
  };
}

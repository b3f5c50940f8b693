/**
 * Mailbox quota admission for the single-process SQLite store (port.ts applyMailboxBatch): the
 * same FIFO rule the PostgreSQL batch applies in SQL, decided in memory because one process owns
 * the SQLite file. Each mailbox's usage, in total and per sender (P40: a sender's share), is
 * loaded once and kept in step with every commit; what is admitted but not yet committed counts
 * against the quota too, so batches in flight together can never overfill a mailbox.
 *
 * A mailbox touched by a batch in flight is pinned: its entry cannot be reloaded from the
 * database meanwhile, which could otherwise count an unresolved commit twice. A retention sweep
 * drops unpinned entries and marks pinned ones stale (reloaded once unpinned); a stale entry
 * only ever over-counts, so a sweep can make admission stricter for a moment, never looser.
 * Knows nothing of SQL.
 */
import type { MailboxQuota, NewEnvelope, QuotaRefusal } from './port';
import type { MailboxTally } from './types';

interface Usage {
  /** Committed. */
  count: number;
  bytes: number;
  /** Admitted, commit pending. */
  inCount: number;
  inBytes: number;
}

interface Entry extends Usage {
  bySender: Map<string, Usage>;
  pinned: number;
  stale: boolean;
}

export interface Admission {
  /** Per insert: admitted (true) or the refusal; `touched` must be settled with `settle`. */
  decide(inserts: NewEnvelope[], ackUsers: string[], quota: MailboxQuota): { outcome: (true | QuotaRefusal)[]; touched: Set<string> };
  /** After the batch: committed (with what acks deleted per user, per sender) or failed. */
  settle(inserts: NewEnvelope[], outcome: (true | QuotaRefusal)[], touched: Set<string>, committed: { acked: MailboxTally[]; ackUsers: string[] } | undefined): void;
  /** After a retention sweep deleted envelopes. */
  invalidate(): void;
}

const usage = (count: number, bytes: number): Usage => ({ count, bytes, inCount: 0, inBytes: 0 });

function less(u: Usage, count: number, bytes: number): void {
  u.count = Math.max(0, u.count - count);
  u.bytes = Math.max(0, u.bytes - bytes);
}

export function createAdmission(load: (username: string) => MailboxTally): Admission {
  const entries = new Map<string, Entry>();

  function entry(username: string): Entry {
    let e = entries.get(username);
    if (!e) {
      const t = load(username);
      const bySender = new Map<string, Usage>();
      for (const [s, u] of t.bySender) bySender.set(s, usage(u.count, u.bytes));
      e = { ...usage(t.count, t.bytes), bySender, pinned: 0, stale: false };
      entries.set(username, e);
    }
    return e;
  }

  function senderOf(e: Entry, sender: string): Usage {
    let s = e.bySender.get(sender);
    if (!s) e.bySender.set(sender, (s = usage(0, 0)));
    return s;
  }

  return {
    decide(inserts, ackUsers, quota) {
      const touched = new Set<string>(ackUsers);
      for (const i of inserts) touched.add(i.recipient);
      for (const u of touched) entry(u).pinned++;
      // Running totals per mailbox (and sender) count refused envelopes too: FIFO within the batch.
      const run = new Map<string, { count: number; bytes: number }>();
      const outcome = inserts.map((ins): true | QuotaRefusal => {
        const e = entries.get(ins.recipient)!;
        const s = senderOf(e, ins.sender);
        const size = ins.body.length;
        let r = run.get(ins.recipient);
        if (!r) run.set(ins.recipient, (r = { count: e.count + e.inCount, bytes: e.bytes + e.inBytes }));
        const key = `${ins.recipient} ${ins.sender}`;
        let rs = run.get(key);
        if (!rs) run.set(key, (rs = { count: s.count + s.inCount, bytes: s.bytes + s.inBytes }));
        r.count += 1;
        r.bytes += size;
        rs.count += 1;
        rs.bytes += size;
        if (r.count > quota.maxCount) return 'count';
        if (r.bytes > quota.maxBytes) return 'bytes';
        if (rs.count > quota.senderMaxCount) return 'senderCount';
        if (rs.bytes > quota.senderMaxBytes) return 'senderBytes';
        e.inCount += 1;
        e.inBytes += size;
        s.inCount += 1;
        s.inBytes += size;
        return true;
      });
      return { outcome, touched };
    },

    settle(inserts, outcome, touched, committed) {
      inserts.forEach((ins, i) => {
        if (outcome[i] !== true) return;
        const e = entries.get(ins.recipient)!;
        const size = ins.body.length;
        for (const u of [e, senderOf(e, ins.sender)]) {
          u.inCount -= 1;
          u.inBytes -= size;
          if (committed) {
            u.count += 1;
            u.bytes += size;
          }
        }
      });
      committed?.acked.forEach((d, k) => {
        const e = entries.get(committed.ackUsers[k]!)!;
        less(e, d.count, d.bytes);
        for (const [sender, x] of d.bySender) {
          const s = e.bySender.get(sender);
          if (s) less(s, x.count, x.bytes);
        }
      });
      for (const u of touched) {
        const e = entries.get(u)!;
        if (--e.pinned > 0) continue;
        if (e.stale) entries.delete(u);
        else for (const [s, x] of e.bySender) if (x.count === 0 && x.inCount === 0) e.bySender.delete(s);
      }
    },

    invalidate() {
      for (const [u, e] of entries) {
        if (e.pinned === 0) entries.delete(u);
        else e.stale = true;
      }
    }
  };
}

/**
 * The mailbox (DESIGN.md §5 "Delivery"): durable store of opaque envelopes, delete on ack,
 * 30-day retention, per-envelope size limit and per-mailbox quota.
 *
 * Group commit: `submit` and `ack` only queue; the flusher sends everything queued as ONE
 * transaction (one fsync) and, while that commits, collects the next batch. Only after a batch's
 * commit do its submit promises resolve, so a sender's 'stored' reply always follows a durable
 * write.
 * If the commit fails, every request in the batch is rejected and nothing of it is stored.
 * After a commit, `onStored` fires per envelope in id order so the hub can push it.
 * Knows nothing of sockets, tokens or what is inside an envelope.
 */
import { HostError } from './http-util';
import type { Limits } from './limits';
import type { HostStorage, MailboxUsage, NewEnvelope, StoredEnvelope } from './storage/types';

interface PendingSend {
  envelope: NewEnvelope;
  resolve(e: StoredEnvelope): void;
  reject(e: unknown): void;
}

interface PendingAck {
  username: string;
  ids: number[];
  resolve(n: number): void;
  reject(e: unknown): void;
}

export interface Mailbox {
  /** Resolves once the envelope is durably stored (or rejects with a HostError). */
  submit(sender: string, recipient: string, body: Uint8Array): Promise<StoredEnvelope>;
  /** Deletes `ids` from `username`'s mailbox; resolves with how many were there. */
  ack(username: string, ids: number[]): Promise<number>;
  /** Retention sweep; returns how many envelopes were deleted. */
  sweep(): number;
  /** Commits whatever is queued; refuses new work afterwards. */
  drain(): Promise<void>;
  /** Group-commit counters (for the benchmark and operators; no content). */
  stats(): MailboxStats;
}

export interface MailboxStats {
  commits: number;
  envelopes: number;
  acks: number;
  commitMs: number;
  maxCommitMs: number;
}

export function createMailbox(
  storage: HostStorage,
  limits: Limits,
  clock: () => number,
  onStored: (e: StoredEnvelope) => void
): Mailbox {
  let sends: PendingSend[] = [];
  let acks: PendingAck[] = [];
  let scheduled: Promise<void> | undefined;
  let closed = false;
  // Usage per mailbox, loaded lazily and kept in step with every commit (one host process owns the DB).
  const usage = new Map<string, MailboxUsage>();
  // Accounts are never deleted, so a name seen once needs no further lookup on the hot path.
  const knownRecipients = new Set<string>();
  const stats: MailboxStats = { commits: 0, envelopes: 0, acks: 0, commitMs: 0, maxCommitMs: 0 };

  function usageOf(username: string): MailboxUsage {
    let u = usage.get(username);
    if (!u) {
      u = storage.mailboxUsage(username);
      usage.set(username, u);
    }
    return u;
  }

  /** Admits against quota: committed usage plus everything already admitted (in flight too). */
  function admit(batchSends: PendingSend[]): { admitted: PendingSend[]; extra: Map<string, MailboxUsage> } {
    const extra = new Map<string, MailboxUsage>();
    const admitted: PendingSend[] = [];
    for (const s of batchSends) {
      const r = s.envelope.recipient;
      const u = usageOf(r);
      const size = s.envelope.body.length;
      if (u.count + 1 > limits.mailboxMaxCount) {
        s.reject(new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxCount} envelopes waiting`));
      } else if (u.bytes + size > limits.mailboxMaxBytes) {
        s.reject(new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxBytes} bytes waiting`));
      } else {
        u.count += 1;
        u.bytes += size;
        const x = extra.get(r) ?? { count: 0, bytes: 0 };
        extra.set(r, { count: x.count + 1, bytes: x.bytes + size });
        admitted.push(s);
      }
    }
    return { admitted, extra };
  }

  /**
   * One batch at a time: while it commits, new sends and acks queue up and become the next
   * batch, so the fsync cost is shared by everything that arrived meanwhile (group commit).
   */
  async function flush(): Promise<void> {
    while (sends.length > 0 || acks.length > 0) {
      const batchAcks = acks;
      const { admitted, extra } = admit(sends);
      sends = [];
      acks = [];
      if (admitted.length === 0 && batchAcks.length === 0) continue;
      const t0 = performance.now();
      let result;
      try {
        result = await storage.applyMailboxBatch(
          admitted.map((s) => s.envelope),
          batchAcks.map((a) => ({ username: a.username, ids: a.ids }))
        );
      } catch {
        for (const [r, x] of extra) {
          const u = usageOf(r);
          u.count -= x.count;
          u.bytes -= x.bytes;
        }
        const err = new HostError(503, 'Unavailable', 'storage failed; nothing was stored, retry');
        for (const s of admitted) s.reject(err);
        for (const a of batchAcks) a.reject(err);
        continue;
      }
      const ms = performance.now() - t0;
      stats.commits++;
      stats.envelopes += admitted.length;
      stats.acks += batchAcks.length;
      stats.commitMs += ms;
      stats.maxCommitMs = Math.max(stats.maxCommitMs, ms);
      batchAcks.forEach((a, i) => {
        const d = result.acked[i]!;
        const u = usageOf(a.username);
        u.count = Math.max(0, u.count - d.count);
        u.bytes = Math.max(0, u.bytes - d.bytes);
        a.resolve(d.count);
      });
      const stored: StoredEnvelope[] = admitted.map((s, i) => ({ ...s.envelope, id: result.ids[i]! }));
      stored.forEach((e, i) => admitted[i]!.resolve(e));
      for (const e of stored) onStored(e);
    }
  }

  function schedule(): void {
    if (scheduled) return;
    // Wait for the current tick's frames to arrive before the first batch leaves.
    scheduled = new Promise<void>((done) => setImmediate(done))
      .then(flush)
      .finally(() => {
        scheduled = undefined;
        // A submit that ran in a microtask after flush's last check must not be stranded.
        if (sends.length > 0 || acks.length > 0) schedule();
      });
  }

  return {
    submit(sender, recipient, body) {
      if (closed) return Promise.reject(new HostError(503, 'Unavailable', 'host is shutting down; retry'));
      if (body.length === 0) return Promise.reject(new HostError(400, 'BadRequest', 'empty envelope'));
      if (body.length > limits.maxEnvelopeBytes) {
        return Promise.reject(new HostError(413, 'TooLarge', `envelope of ${body.length} bytes exceeds ${limits.maxEnvelopeBytes}`));
      }
      if (!knownRecipients.has(recipient)) {
        if (!storage.accountExists(recipient)) return Promise.reject(new HostError(404, 'NoSuchUser', 'no such user'));
        knownRecipients.add(recipient);
      }
      return new Promise((resolve, reject) => {
        sends.push({ envelope: { recipient, sender, receivedAt: clock(), body }, resolve, reject });
        schedule();
      });
    },
    ack(username, ids) {
      if (closed) return Promise.reject(new HostError(503, 'Unavailable', 'host is shutting down; retry'));
      if (ids.length === 0) return Promise.resolve(0);
      return new Promise((resolve, reject) => {
        acks.push({ username, ids, resolve, reject });
        schedule();
      });
    },
    sweep() {
      const n = storage.sweep(clock() - limits.retentionMs, clock());
      if (n > 0) usage.clear();
      return n;
    },
    stats: () => ({ ...stats }),
    async drain() {
      closed = true;
      while (scheduled) await scheduled;
    }
  };
}

/**
 * The mailbox (DESIGN.md §5 "Delivery"): durable store of opaque envelopes, delete on ack,
 * 30-day retention, per-envelope size limit and per-mailbox quota.
 *
 * Group commit: `submit` and `ack` only queue; everything queued goes as ONE transaction (one
 * fsync), at most two batches commit at once, and what arrives meanwhile forms the next batch.
 * Only after a batch's
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

/** Batches committing at once; see pump(). */
const MAX_IN_FLIGHT = 2;

export function createMailbox(
  storage: HostStorage,
  limits: Limits,
  clock: () => number,
  onStored: (e: StoredEnvelope) => void
): Mailbox {
  let sends: PendingSend[] = [];
  let acks: PendingAck[] = [];
  let scheduled = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];
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

  /** Commits one batch; resolves its requests only after the commit, then hands envelopes to the hub. */
  async function commit(admitted: PendingSend[], extra: Map<string, MailboxUsage>, batchAcks: PendingAck[]): Promise<void> {
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
      return;
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

  /**
   * Starts batches while fewer than MAX_IN_FLIGHT are committing. Whatever arrives meanwhile
   * becomes the next batch, so one fsync covers everything that queued during the previous one
   * (group commit); two in flight keep the event loop busy while the writer syncs. Storage
   * commits batches in call order, so completions (and pushes) stay in server-id order.
   */
  function pump(): void {
    while (inFlight < MAX_IN_FLIGHT && (sends.length > 0 || acks.length > 0)) {
      const batchAcks = acks;
      const { admitted, extra } = admit(sends);
      sends = [];
      acks = [];
      if (admitted.length === 0 && batchAcks.length === 0) continue;
      inFlight++;
      void commit(admitted, extra, batchAcks).finally(() => {
        inFlight--;
        pump();
        if (inFlight === 0 && sends.length === 0 && acks.length === 0) for (const w of idle.splice(0)) w();
      });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // Wait for the current tick's frames to arrive before a batch leaves.
    setImmediate(() => {
      scheduled = false;
      pump();
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
      pump();
      if (inFlight > 0) await new Promise<void>((r) => idle.push(r));
    }
  };
}

/**
 * The mailbox (DESIGN.md §5 "Delivery"): durable store of opaque envelopes, delete on ack,
 * 30-day retention, per-envelope size limit and per-mailbox quota.
 *
 * Group commit: `submit` and `ack` only queue; everything queued goes as ONE transaction (one
 * fsync), at most two batches commit at once, batches start at least MIN_GAP_MS apart, and what
 * arrives meanwhile forms the next batch. Only after a batch's commit are its requests answered
 * (promise or callback), so a sender's 'stored' reply always follows a durable write.
 * If the commit fails, every request in the batch is rejected and nothing of it is stored.
 * After a commit, `onStored` fires per envelope in id order so the hub can push it.
 * Knows nothing of sockets, tokens or what is inside an envelope.
 */
import { HostError } from './http-util';
import type { Limits } from './limits';
import type { HostStorage, MailboxUsage, StoredEnvelope } from './storage/types';

/** Called once per request: with an error, or with the result after the durable commit. */
export type Done<T> = (err: unknown, result?: T) => void;

interface PendingSend {
  /** `id` is filled in after the commit. */
  envelope: StoredEnvelope;
  done: Done<StoredEnvelope>;
}

interface PendingAck {
  username: string;
  ids: number[];
  done: Done<number>;
}

export interface Mailbox {
  /** Resolves once the envelope is durably stored (or rejects with a HostError). */
  submit(sender: string, recipient: string, body: Uint8Array): Promise<StoredEnvelope>;
  /**
   * `submit` with a callback, for the WebSocket hot path (no promise pair per envelope). `body`
   * must not be written to afterwards: it is read again when the batch is packed and pushed.
   */
  submitCb(sender: string, recipient: string, body: Uint8Array, done: Done<StoredEnvelope>): void;
  /** Deletes `ids` from `username`'s mailbox; resolves with how many were there. */
  ack(username: string, ids: number[]): Promise<number>;
  /** `ack` with a callback (WebSocket hot path). */
  ackCb(username: string, ids: number[], done: Done<number>): void;
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

/** One reply that throws must not keep the rest of its batch from being answered. */
function answer<T>(done: Done<T>, err: unknown, result?: T): void {
  try {
    done(err, result);
  } catch {
    // The callback's own failure (e.g. a socket that broke mid-write) is its connection's problem.
  }
}

/** Batches committing at once; see pump(). */
const MAX_IN_FLIGHT = 2;
/**
 * Minimum milliseconds between batch starts; see pump(). Under load, committing the moment a slot
 * was free made batches of ~10 envelopes: the writer then paid a commit (fsync, ~40 rewritten WAL
 * pages) per handful of envelopes, 12 us of CPU per envelope on a 2-core host. 3 ms gives batches
 * of ~50-70 at 20k/s for 1.5 ms of added latency on average; a lone message after a quiet spell
 * still leaves at once (the gap has long passed).
 */
const MIN_GAP_MS = 3;
/**
 * The gap only follows a batch at least this big: under load batches are large and the gap pays
 * for itself, while a quiet host (a call being set up, a chat) commits each message at once.
 */
const GAP_AFTER_BATCH = 8;

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
        answer(s.done, new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxCount} envelopes waiting`));
      } else if (u.bytes + size > limits.mailboxMaxBytes) {
        answer(s.done, new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxBytes} bytes waiting`));
      } else {
        u.count += 1;
        u.bytes += size;
        const x = extra.get(r);
        if (x) {
          x.count += 1;
          x.bytes += size;
        } else extra.set(r, { count: 1, bytes: size });
        admitted.push(s);
      }
    }
    return { admitted, extra };
  }

  /** Commits one batch; answers its requests only after the commit, then hands envelopes to the hub. */
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
      for (const s of admitted) answer(s.done, err);
      for (const a of batchAcks) answer(a.done, err);
      return;
    }
    const ms = performance.now() - t0;
    stats.commits++;
    stats.envelopes += admitted.length;
    stats.acks += batchAcks.length;
    stats.commitMs += ms;
    stats.maxCommitMs = Math.max(stats.maxCommitMs, ms);
    for (let i = 0; i < batchAcks.length; i++) {
      const a = batchAcks[i]!;
      const d = result.acked[i]!;
      const u = usageOf(a.username);
      u.count = Math.max(0, u.count - d.count);
      u.bytes = Math.max(0, u.bytes - d.bytes);
      answer(a.done, undefined, d.count);
    }
    for (let i = 0; i < admitted.length; i++) admitted[i]!.envelope.id = result.ids[i]!;
    for (const s of admitted) answer(s.done, undefined, s.envelope);
    for (const s of admitted) onStored(s.envelope);
  }

  /**
   * Starts batches while fewer than MAX_IN_FLIGHT are committing and MIN_GAP_MS has passed since
   * the last start (else a timer retries). Whatever arrives meanwhile becomes the next batch, so
   * one fsync covers everything that queued during the previous one (group commit); two in flight
   * keep the event loop busy while the writer syncs. Storage commits batches in call order, so
   * completions (and pushes) stay in server-id order. Draining ignores the gap.
   */
  let lastStart = -Infinity;
  let lastSize = 0;
  let gapTimer: NodeJS.Timeout | undefined;
  function pump(): void {
    while (inFlight < MAX_IN_FLIGHT && (sends.length > 0 || acks.length > 0)) {
      const wait = closed || lastSize < GAP_AFTER_BATCH ? 0 : lastStart + MIN_GAP_MS - performance.now();
      if (wait > 0) {
        gapTimer ??= setTimeout(() => {
          gapTimer = undefined;
          pump();
        }, wait);
        return;
      }
      const batchAcks = acks;
      const { admitted, extra } = admit(sends);
      sends = [];
      acks = [];
      if (admitted.length === 0 && batchAcks.length === 0) continue;
      lastStart = performance.now();
      lastSize = admitted.length + batchAcks.length;
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

  function submitCb(sender: string, recipient: string, body: Uint8Array, done: Done<StoredEnvelope>): void {
    if (closed) return done(new HostError(503, 'Unavailable', 'host is shutting down; retry'));
    if (body.length === 0) return done(new HostError(400, 'BadRequest', 'empty envelope'));
    if (body.length > limits.maxEnvelopeBytes) {
      return done(new HostError(413, 'TooLarge', `envelope of ${body.length} bytes exceeds ${limits.maxEnvelopeBytes}`));
    }
    if (!knownRecipients.has(recipient)) {
      if (!storage.accountExists(recipient)) return done(new HostError(404, 'NoSuchUser', 'no such user'));
      knownRecipients.add(recipient);
    }
    sends.push({ envelope: { id: 0, recipient, sender, receivedAt: clock(), body }, done });
    schedule();
  }

  function ackCb(username: string, ids: number[], done: Done<number>): void {
    if (closed) return done(new HostError(503, 'Unavailable', 'host is shutting down; retry'));
    if (ids.length === 0) return done(undefined, 0);
    acks.push({ username, ids, done });
    schedule();
  }

  /** A Done that settles a promise. */
  function settle<T>(resolve: (v: T) => void, reject: (e: unknown) => void): Done<T> {
    return (err, v) => (err === undefined ? resolve(v as T) : reject(err));
  }

  return {
    submitCb,
    ackCb,
    submit: (sender, recipient, body) => new Promise((resolve, reject) => submitCb(sender, recipient, body, settle(resolve, reject))),
    ack: (username, ids) => new Promise((resolve, reject) => ackCb(username, ids, settle(resolve, reject))),
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

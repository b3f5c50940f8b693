/**
 * The mailbox (DESIGN.md §5 "Delivery"): durable store of opaque envelopes, delete on ack,
 * 30-day retention, per-envelope size limit and per-mailbox quota.
 *
 * Group commit: `submit` and `ack` only queue; everything queued goes as ONE transaction (one
 * fsync), at most two batches commit at once, batches start at least MIN_GAP_MS apart, and what
 * arrives meanwhile forms the next batch. Only after a batch's commit are its requests answered
 * (promise or callback), so a sender's 'stored' reply always follows a durable write.
 * If the commit fails, every request in the batch is rejected and nothing of it is stored; when
 * storage is full (P40) the sends get 503 with Retry-After and the batch's acks are committed on
 * their own, because deleting is how a full store gets room again.
 * After a commit, `onStored` fires per envelope in id order so the hub can push it.
 *
 * Quotas (P40 lockouts): per mailbox a count and a byte quota, and per sender a share of both,
 * so one sender cannot fill a mailbox for everyone else. The store admits each insert against
 * them atomically with the batch (port.ts), so instances sharing a database never overfill a
 * mailbox; a refused send is answered 507 once its batch has committed. The retention sweep runs
 * in bounded chunks in the store, one sweep at a time.
 * Knows nothing of sockets, tokens or what is inside an envelope.
 */
import { HostError } from './http-util';
import type { Limits } from './limits';
import type { HostStore, MailboxQuota, QuotaRefusal } from './storage/port';
import { StorageFullError, type StoredEnvelope } from './storage/types';

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
  /**
   * Retention sweep in chunks; resolves with how many envelopes were deleted. Never rejects: a
   * failure (e.g. a full disk) is logged and the next sweep tries again. One runs at a time.
   */
  sweep(): Promise<number>;
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
  storage: HostStore,
  limits: Limits,
  clock: () => number,
  /** After the commit, per envelope in id order; `before` as port.ts StoreBatchResult. */
  onStored: (e: StoredEnvelope, before: number | undefined) => void,
  /** Storage failures with their reason (server.ts rate-limits the log lines). */
  onStorageFailure: (what: string, e: unknown) => void = () => {}
): Mailbox {
  let sends: PendingSend[] = [];
  let acks: PendingAck[] = [];
  /** Acks of a batch that failed for lack of room, retried without that batch's sends. */
  const ackRetries: PendingAck[] = [];
  let scheduled = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];
  let closed = false;
  const shareCount = Math.max(1, Math.floor(limits.mailboxMaxCount * limits.mailboxSenderShare));
  const shareBytes = Math.max(1, Math.floor(limits.mailboxMaxBytes * limits.mailboxSenderShare));
  const quota: MailboxQuota = { maxCount: limits.mailboxMaxCount, maxBytes: limits.mailboxMaxBytes, senderMaxCount: shareCount, senderMaxBytes: shareBytes };
  let sweeping: Promise<number> | undefined;
  // Accounts are never deleted, so a name seen once needs no further lookup on the hot path.
  const knownRecipients = new Set<string>();
  /** Existence checks in flight, shared by sends to one recipient so they keep their order. */
  const lookups = new Map<string, Promise<boolean>>();
  const stats: MailboxStats = { commits: 0, envelopes: 0, acks: 0, commitMs: 0, maxCommitMs: 0 };

  function refusal(why: QuotaRefusal): HostError {
    switch (why) {
      case 'count':
        return new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxCount} envelopes waiting`);
      case 'bytes':
        return new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxBytes} bytes waiting`);
      case 'senderCount':
        return new HostError(507, 'QuotaExceeded', `this sender already has ${shareCount} envelopes waiting in the mailbox (share: ${shareCount})`);
      case 'senderBytes':
        return new HostError(507, 'QuotaExceeded', `this sender's envelopes waiting in the mailbox would exceed ${shareBytes} bytes (its share)`);
    }
  }

  /** Commits one batch; answers its requests only after the commit, then hands envelopes to the hub. */
  async function commit(admitted: PendingSend[], batchAcks: PendingAck[]): Promise<void> {
    const t0 = performance.now();
    let result;
    try {
      result = await storage.applyMailboxBatch(
        admitted.map((s) => s.envelope),
        batchAcks.map((a) => ({ username: a.username, ids: a.ids })),
        quota
      );
    } catch (e) {
      onStorageFailure('mailbox commit', e);
      const full = e instanceof StorageFullError;
      const err = full
        ? new HostError(503, 'Unavailable', 'storage is full; nothing was stored, retry later', limits.storageRetryAfterMs)
        : new HostError(503, 'Unavailable', 'storage failed; nothing was stored, retry');
      for (const s of admitted) answer(s.done, err);
      if (full && admitted.length > 0) {
        // Deleting is how a full store gets room: the acks go again in a batch of their own.
        ackRetries.push(...batchAcks);
        schedule();
      } else for (const a of batchAcks) answer(a.done, err);
      return;
    }
    const ms = performance.now() - t0;
    stats.commits++;
    stats.acks += batchAcks.length;
    stats.commitMs += ms;
    stats.maxCommitMs = Math.max(stats.maxCommitMs, ms);
    for (let i = 0; i < batchAcks.length; i++) answer(batchAcks[i]!.done, undefined, result.acked[i]!.count);
    const stored: number[] = [];
    for (let i = 0; i < admitted.length; i++) {
      const id = result.ids[i]!;
      if (typeof id === 'number') {
        admitted[i]!.envelope.id = id;
        answer(admitted[i]!.done, undefined, admitted[i]!.envelope);
        stored.push(i);
      } else answer(admitted[i]!.done, refusal(id));
    }
    stats.envelopes += stored.length;
    for (const i of stored) onStored(admitted[i]!.envelope, result.before?.[i]);
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
    while (inFlight < MAX_IN_FLIGHT && (sends.length > 0 || acks.length > 0 || ackRetries.length > 0)) {
      const wait = closed || lastSize < GAP_AFTER_BATCH ? 0 : lastStart + MIN_GAP_MS - performance.now();
      if (wait > 0) {
        gapTimer ??= setTimeout(() => {
          gapTimer = undefined;
          pump();
        }, wait);
        return;
      }
      const retry = ackRetries.length > 0;
      const batchAcks = retry ? ackRetries.splice(0) : acks;
      const admitted = retry ? [] : sends;
      if (!retry) {
        sends = [];
        acks = [];
      }
      if (admitted.length === 0 && batchAcks.length === 0) continue;
      lastStart = performance.now();
      lastSize = admitted.length + batchAcks.length;
      inFlight++;
      void commit(admitted, batchAcks).finally(() => {
        inFlight--;
        pump();
        if (inFlight === 0 && sends.length === 0 && acks.length === 0 && ackRetries.length === 0) for (const w of idle.splice(0)) w();
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
    if (knownRecipients.has(recipient)) return queue(sender, recipient, body, done);
    let known = lookups.get(recipient);
    if (!known) {
      known = storage.accountExists(recipient);
      lookups.set(recipient, known);
      void known.then(
        (yes) => {
          lookups.delete(recipient);
          if (yes) knownRecipients.add(recipient);
        },
        () => lookups.delete(recipient)
      );
    }
    known.then(
      (yes) => (yes ? queue(sender, recipient, body, done) : done(new HostError(404, 'NoSuchUser', 'no such user'))),
      (e: unknown) => done(e)
    );
  }

  function queue(sender: string, recipient: string, body: Uint8Array, done: Done<StoredEnvelope>): void {
    if (closed) return done(new HostError(503, 'Unavailable', 'host is shutting down; retry'));
    sends.push({ envelope: { id: 0, recipient, sender, receivedAt: clock(), body }, done });
    schedule();
  }

  function ackCb(username: string, ids: number[], done: Done<number>): void {
    if (closed) return done(new HostError(503, 'Unavailable', 'host is shutting down; retry'));
    if (ids.length === 0) return done(undefined, 0);
    acks.push({ username, ids, done });
    schedule();
  }

  /** The store sweeps in chunks, each queued behind the batches before it (P40). */
  async function sweepChunks(): Promise<number> {
    const now = clock();
    try {
      return await storage.sweep(now - limits.retentionMs, now);
    } catch (e) {
      const swept = (e as { swept?: unknown } | null)?.swept;
      onStorageFailure(`retention sweep (stopped after ${typeof swept === 'number' ? swept : 0} envelopes)`, e);
      return 0;
    }
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
      sweeping ??= sweepChunks().finally(() => (sweeping = undefined));
      return sweeping;
    },
    stats: () => ({ ...stats }),
    async drain() {
      closed = true;
      pump();
      if (inFlight > 0) await new Promise<void>((r) => idle.push(r));
      await sweeping;
    }
  };
}

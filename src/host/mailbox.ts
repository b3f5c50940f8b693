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
 * so one sender cannot fill a mailbox for everyone else. The retention sweep runs as chunks in
 * the storage writer (bounded transactions, off the event loop), one sweep at a time.
 * Knows nothing of sockets, tokens or what is inside an envelope.
 */
import { HostError } from './http-util';
import type { Limits } from './limits';
import { StorageFullError, type HostStorage, type MailboxTally, type MailboxUsage, type StoredEnvelope } from './storage/types';

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

/** Subtracts `d` from `u`, never below zero (see `usageOf` on the rare double count). */
function subtract(u: MailboxUsage, d: MailboxUsage): void {
  u.count = Math.max(0, u.count - d.count);
  u.bytes = Math.max(0, u.bytes - d.bytes);
}

function subtractTally(u: MailboxTally, d: MailboxTally): void {
  subtract(u, d);
  for (const [sender, x] of d.bySender) {
    const su = u.bySender.get(sender);
    if (!su) continue;
    subtract(su, x);
    if (su.count === 0) u.bySender.delete(sender);
  }
}

export function createMailbox(
  storage: HostStorage,
  limits: Limits,
  clock: () => number,
  onStored: (e: StoredEnvelope) => void,
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
  // Usage per mailbox and per sender, loaded lazily and kept in step with every commit, ack and
  // sweep chunk (one host process owns the DB).
  const usage = new Map<string, MailboxTally>();
  const shareCount = Math.max(1, Math.floor(limits.mailboxMaxCount * limits.mailboxSenderShare));
  const shareBytes = Math.max(1, Math.floor(limits.mailboxMaxBytes * limits.mailboxSenderShare));
  let sweeping: Promise<number> | undefined;
  // Accounts are never deleted, so a name seen once needs no further lookup on the hot path.
  const knownRecipients = new Set<string>();
  const stats: MailboxStats = { commits: 0, envelopes: 0, acks: 0, commitMs: 0, maxCommitMs: 0 };

  /**
   * A mailbox's usage, loaded from storage the first time it is needed. Anything in flight for a
   * mailbox was admitted through here, so it is loaded before its first send commits. (An ack or
   * sweep chunk that commits while the load reads can be counted twice; `subtract` clamps at 0.)
   */
  function usageOf(username: string): MailboxTally {
    let u = usage.get(username);
    if (!u) {
      u = storage.mailboxUsage(username);
      usage.set(username, u);
    }
    return u;
  }

  function add(t: MailboxTally, sender: string, size: number): void {
    t.count += 1;
    t.bytes += size;
    const su = t.bySender.get(sender);
    if (su) {
      su.count += 1;
      su.bytes += size;
    } else t.bySender.set(sender, { count: 1, bytes: size });
  }

  /** Why `sender` may not add `size` bytes to mailbox `u`, or undefined if it may. */
  function refusal(u: MailboxTally, sender: string, size: number): HostError | undefined {
    if (u.count + 1 > limits.mailboxMaxCount) return new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxCount} envelopes waiting`);
    if (u.bytes + size > limits.mailboxMaxBytes) return new HostError(507, 'QuotaExceeded', `mailbox full: ${limits.mailboxMaxBytes} bytes waiting`);
    const su = u.bySender.get(sender);
    if (su && su.count + 1 > shareCount) return new HostError(507, 'QuotaExceeded', `this sender already has ${su.count} envelopes waiting in the mailbox (share: ${shareCount})`);
    if ((su?.bytes ?? 0) + size > shareBytes) return new HostError(507, 'QuotaExceeded', `this sender's envelopes waiting in the mailbox would exceed ${shareBytes} bytes (its share)`);
    return undefined;
  }

  /** Admits against quota: committed usage plus everything already admitted (in flight too). */
  function admit(batchSends: PendingSend[]): { admitted: PendingSend[]; extra: Map<string, MailboxTally> } {
    const extra = new Map<string, MailboxTally>();
    const admitted: PendingSend[] = [];
    for (const s of batchSends) {
      const { recipient: r, sender, body } = s.envelope;
      const u = usageOf(r);
      const refused = refusal(u, sender, body.length);
      if (refused) {
        answer(s.done, refused);
        continue;
      }
      add(u, sender, body.length);
      let x = extra.get(r);
      if (!x) extra.set(r, (x = { count: 0, bytes: 0, bySender: new Map() }));
      add(x, sender, body.length);
      admitted.push(s);
    }
    return { admitted, extra };
  }

  /** Commits one batch; answers its requests only after the commit, then hands envelopes to the hub. */
  async function commit(admitted: PendingSend[], extra: Map<string, MailboxTally>, batchAcks: PendingAck[]): Promise<void> {
    const t0 = performance.now();
    let result;
    try {
      result = await storage.applyMailboxBatch(
        admitted.map((s) => s.envelope),
        batchAcks.map((a) => ({ username: a.username, ids: a.ids }))
      );
    } catch (e) {
      for (const [r, x] of extra) subtractTally(usageOf(r), x);
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
    stats.envelopes += admitted.length;
    stats.acks += batchAcks.length;
    stats.commitMs += ms;
    stats.maxCommitMs = Math.max(stats.maxCommitMs, ms);
    for (let i = 0; i < batchAcks.length; i++) {
      const a = batchAcks[i]!;
      const d = result.acked[i]!;
      // Not loaded yet: a later load reads storage, which no longer holds what was acked.
      const u = usage.get(a.username);
      if (u) subtractTally(u, d);
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
      const { admitted, extra } = retry ? { admitted: [], extra: new Map<string, MailboxTally>() } : admit(sends);
      if (!retry) {
        sends = [];
        acks = [];
      }
      if (admitted.length === 0 && batchAcks.length === 0) continue;
      lastStart = performance.now();
      lastSize = admitted.length + batchAcks.length;
      inFlight++;
      void commit(admitted, extra, batchAcks).finally(() => {
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

  /** Chunk after chunk until one comes back short; each chunk queues behind the batches before it. */
  async function sweepChunks(): Promise<number> {
    const now = clock();
    const before = now - limits.retentionMs;
    let total = 0;
    try {
      while (!closed) {
        const chunk = await storage.sweepChunk(before, now, limits.sweepChunk);
        total += chunk.envelopes;
        for (const [r, t] of chunk.byRecipient) {
          const u = usage.get(r);
          if (u) subtractTally(u, t);
        }
        if (chunk.envelopes < limits.sweepChunk && chunk.tokens < limits.sweepChunk) break;
      }
    } catch (e) {
      onStorageFailure(`retention sweep (stopped after ${total} envelopes)`, e);
    }
    return total;
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

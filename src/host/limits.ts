/**
 * Every host limit in one place, with the reason for each (libsignal's consts.rs habit).
 * `createHost({ limits })` overrides any of them (tests shrink quotas and windows).
 */
import { HostLimits } from '../lib/wire/host-api';

export interface Limits {
  /** Bytes per envelope: one padded message of up to 256 KiB plus PQXDH overhead. */
  maxEnvelopeBytes: number;
  /** Unacked envelopes per mailbox: bounds what an offline user costs the host. */
  mailboxMaxCount: number;
  /** Unacked bytes per mailbox (507 when full; the sender retries later). */
  mailboxMaxBytes: number;
  /**
   * The share of a mailbox's count and byte quota one sender may hold (P40 lockouts): one hostile
   * sender cannot fill someone's mailbox and lock everyone else out of it; the rest stays open.
   */
  mailboxSenderShare: number;
  /** Retention: unacked envelopes older than this are deleted (DESIGN.md §5: 30 days). */
  retentionMs: number;
  /** How often the retention sweep runs. */
  sweepIntervalMs: number;
  /**
   * Rows deleted per sweep transaction (P40): a sweep of millions of envelopes is many short
   * transactions in the writer thread with mailbox batches in between, never one long lock.
   */
  sweepChunk: number;
  /**
   * Largest database file in bytes, 0 for none (P40 full disk): set it below the free disk space
   * so the host refuses new data (503) while the WAL still has room for the deletes acks make.
   */
  maxDatabaseBytes: number;
  /** Retry-After on a 503 because storage is full: clients back off instead of hammering. */
  storageRetryAfterMs: number;
  /** A challenge is single-use and short-lived so a captured signature cannot be replayed later. */
  challengeTtlMs: number;
  /** Outstanding challenges held in memory at most (oldest dropped first). */
  maxChallenges: number;
  /** Bearer token lifetime; the client re-authenticates with a fresh challenge after this. */
  tokenTtlMs: number;
  /** Bundle fetches per requester per window (P9: drains one-time prekeys slowly at worst). */
  bundlePerRequester: { max: number; windowMs: number };
  /** Bundle fetches of one target by one requester per window (429 for that pair only). */
  bundlePerPair: { max: number; windowMs: number };
  /**
   * Bundles with one-time prekeys handed out per target per window, whoever asks (P9). Past it the
   * target's bundles carry only the signed and last-resort prekeys: a drain attempt costs the
   * target some one-time keys, never its reachability (no 429 lockout of everyone else, P40).
   */
  oneTimePerTarget: { max: number; windowMs: number };
  /** Challenges and availability checks per client IP per window. */
  perIp: { max: number; windowMs: number };
  /**
   * Registrations per client IP (an IPv6 /64 counts as one) per window: the cost of every extra
   * account a flooder needs to multiply the per-account limits above.
   */
  registerPerIp: { max: number; windowMs: number };
  /** Stored prekeys per account: a client cannot fill the host's disk with keys. */
  maxOneTimePreKeys: number;
  maxKemPreKeys: number;
  /** Milliseconds a WebSocket may stay silent before its Auth frame. */
  wsAuthTimeoutMs: number;
  /** Envelopes read from the database per redelivery page. */
  redeliveryPage: number;
  /** Body bytes per redelivery page: bounds what one replay step holds in memory (P40). */
  redeliveryPageBytes: number;
  /**
   * Bytes queued in one WebSocket above which the host stops pushing (P40 slow readers): live
   * delivery falls back to replay from storage, which resumes once the socket has drained.
   */
  wsHighWaterBytes: number;
  /** A socket still above the high-water mark after this long is dropped (its reader stalled). */
  wsStallMs: number;
  /** Bytes queued in one socket at which it is dropped at once (replies to a flood it never reads). */
  wsMaxBufferedBytes: number;
  /**
   * Send bodies one socket may have waiting for their commit; past it the host stops reading that
   * socket until half are answered, so a pipelining client queues in TCP, not in host memory.
   */
  wsMaxPendingSendBytes: number;
  /** Malformed frames tolerated per socket before it is closed with 1008 (P40 frame floods). */
  wsMaxMalformedFrames: number;
  /** Authenticated sockets per account (tabs, devices); more are refused with 1013. */
  wsPerAccount: number;
  /**
   * Sealed sends per client address per window (P41): the unauthenticated send path has no
   * account to charge, so the address is what pays (429 beyond; an IPv6 /64 counts as one).
   */
  sealedSendPerIp: { max: number; windowMs: number };
  /** Lifetime of a sender certificate (P41: short, so a stolen one ages out; at most 7 days). */
  senderCertificateTtlMs: number;
  /**
   * Profile blob reads per client IP (P43): a reader needs the profile key to find an address,
   * so this only bounds load; high enough for a chat list of contacts refreshing.
   */
  profileReadPerIp: { max: number; windowMs: number };
  /** Profile blob writes and deletes per client IP: a profile changes rarely (edit, rotation on block). */
  profileWritePerIp: { max: number; windowMs: number };
  /**
   * Attachment blob downloads (ranged GETs) per client address: downloads carry no account (the
   * 128-bit id is the capability), so the address is what pays. A 100 MiB file is 100 parts.
   */
  blobReadPerIp: { max: number; windowMs: number };
  /**
   * Attachment bytes an account may start uploading per window, in MiB of declared (padded)
   * size, counted when the upload is created: blobs stay up to 30 days unless every recipient
   * fetched them, so without a budget one account could fill the disk (P40).
   */
  blobUploadMiBPerAccount: { max: number; windowMs: number };
  /** Recipient lists added to an account's own uploads per window (`/recipients`, P40). */
  blobRecipientsPerAccount: { max: number; windowMs: number };
  /**
   * Deletes of an account's own uploads per window (`DELETE`, P40): each is a store write, and a
   * vault retries an unconfirmed one (blob-withdrawals.ts), so the count bounds what a looping or
   * hostile client costs; a refused delete waits in the vault for a later pass.
   */
  blobDeletesPerAccount: { max: number; windowMs: number };
  /** Group state and invite blob reads per client address (no account, as profiles). */
  groupBlobReadPerIp: { max: number; windowMs: number };
  /**
   * Group blob writes per client address (no account; the write token guards an existing blob):
   * admins reseal after every change they write or receive, so more than profiles need.
   */
  groupBlobWritePerIp: { max: number; windowMs: number };
  /**
   * Anonymous username lookups per client IP (private discovery): enough for a person starting
   * chats, few enough that guessing full names from one address is slow.
   */
  discoveryPerIp: { max: number; windowMs: number };
  /**
   * The same lookups per IPv6 /48 (all its /64s together; IPv4 is not counted here): one party
   * holding a /48 has 65,536 /64s, which would otherwise buy 65,536 × `discoveryPerIp` guesses.
   */
  discoveryPerSite: { max: number; windowMs: number };
  /**
   * Past `discoveryPerIp`, a lookup with a proof of this many bits of work is admitted once
   * (src/lib/crypto/lookup-work.ts): people behind one NAT are not all refused. 0 turns it off.
   */
  discoveryWorkBits: number;
  /** Lookups admitted by work per minute, all instances together, whoever asks (bounds what work buys). */
  discoveryWorkPerMinute: number;
  /**
   * Lookup hashes waiting for the hashing thread (lookup-hasher.ts, about 20–60 ms each); past
   * this a registration is refused (503, nothing created) instead of queueing without bound.
   */
  lookupHashWaiting: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxEnvelopeBytes: HostLimits.maxEnvelopeBytes,
  mailboxMaxCount: 10_000,
  mailboxMaxBytes: 256 * 1024 * 1024,
  mailboxSenderShare: 0.25,
  retentionMs: 30 * 24 * 3600 * 1000,
  sweepIntervalMs: 3600 * 1000,
  sweepChunk: 1000,
  maxDatabaseBytes: 0,
  storageRetryAfterMs: 60_000,
  challengeTtlMs: 60_000,
  maxChallenges: 100_000,
  tokenTtlMs: 7 * 24 * 3600 * 1000,
  bundlePerRequester: { max: 60, windowMs: 60_000 },
  bundlePerPair: { max: 10, windowMs: 60_000 },
  oneTimePerTarget: { max: 30, windowMs: 3600_000 },
  perIp: { max: 600, windowMs: 60_000 },
  registerPerIp: { max: 60, windowMs: 3600_000 },
  maxOneTimePreKeys: 1000,
  maxKemPreKeys: 200,
  wsAuthTimeoutMs: 10_000,
  redeliveryPage: 256,
  redeliveryPageBytes: 1024 * 1024,
  wsHighWaterBytes: 4 * 1024 * 1024,
  wsStallMs: 60_000,
  wsMaxBufferedBytes: 16 * 1024 * 1024,
  wsMaxPendingSendBytes: 8 * 1024 * 1024,
  wsMaxMalformedFrames: 16,
  wsPerAccount: 10,
  sealedSendPerIp: { max: 600, windowMs: 60_000 },
  senderCertificateTtlMs: 24 * 3600 * 1000,
  profileReadPerIp: { max: 600, windowMs: 60_000 },
  profileWritePerIp: { max: 120, windowMs: 3600_000 },
  blobReadPerIp: { max: 1200, windowMs: 60_000 },
  blobUploadMiBPerAccount: { max: 4096, windowMs: 86_400_000 },
  blobRecipientsPerAccount: { max: 600, windowMs: 3600_000 },
  blobDeletesPerAccount: { max: 600, windowMs: 3600_000 },
  groupBlobReadPerIp: { max: 600, windowMs: 60_000 },
  groupBlobWritePerIp: { max: 600, windowMs: 3600_000 },
  discoveryPerIp: { max: 30, windowMs: 60_000 },
  discoveryPerSite: { max: 240, windowMs: 60_000 },
  discoveryWorkBits: 20,
  discoveryWorkPerMinute: 600,
  lookupHashWaiting: 256
};

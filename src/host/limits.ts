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
  /** Retention: unacked envelopes older than this are deleted (DESIGN.md §5: 30 days). */
  retentionMs: number;
  /** How often the retention sweep runs. */
  sweepIntervalMs: number;
  /** A challenge is single-use and short-lived so a captured signature cannot be replayed later. */
  challengeTtlMs: number;
  /** Outstanding challenges held in memory at most (oldest dropped first). */
  maxChallenges: number;
  /** Bearer token lifetime; the client re-authenticates with a fresh challenge after this. */
  tokenTtlMs: number;
  /** Bundle fetches per requester per window (P9: drains one-time prekeys slowly at worst). */
  bundlePerRequester: { max: number; windowMs: number };
  /** Bundle fetches per target per window, whoever asks. */
  bundlePerTarget: { max: number; windowMs: number };
  /** Challenges and availability checks per client IP per window. */
  perIp: { max: number; windowMs: number };
  /** Stored prekeys per account: a client cannot fill the host's disk with keys. */
  maxOneTimePreKeys: number;
  maxKemPreKeys: number;
  /** Milliseconds a WebSocket may stay silent before its Auth frame. */
  wsAuthTimeoutMs: number;
  /** Envelopes read from the database per redelivery page. */
  redeliveryPage: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxEnvelopeBytes: HostLimits.maxEnvelopeBytes,
  mailboxMaxCount: 10_000,
  mailboxMaxBytes: 256 * 1024 * 1024,
  retentionMs: 30 * 24 * 3600 * 1000,
  sweepIntervalMs: 3600 * 1000,
  challengeTtlMs: 60_000,
  maxChallenges: 100_000,
  tokenTtlMs: 7 * 24 * 3600 * 1000,
  bundlePerRequester: { max: 60, windowMs: 60_000 },
  bundlePerTarget: { max: 120, windowMs: 60_000 },
  perIp: { max: 600, windowMs: 60_000 },
  maxOneTimePreKeys: 1000,
  maxKemPreKeys: 200,
  wsAuthTimeoutMs: 10_000,
  redeliveryPage: 256
};

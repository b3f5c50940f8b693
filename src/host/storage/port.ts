/**
 * The host's ASYNCHRONOUS storage port (DESIGN.md §5, §9): everything a host instance persists
 * or must share with other instances, behind one interface with two adapters, SQLite (one
 * process, sqlite-store.ts) and PostgreSQL (several stateless instances, pg/store.ts).
 * `open.ts` picks one from DATABASE_URL. One contract suite (tests/host/store-contract.test.ts)
 * runs against both.
 *
 * It holds only what §9 allows the host to know (usernames, public keys, token and key hashes,
 * opaque envelopes with recipient, sender, size and time; the host hands it every username
 * sealed, sealed-names.ts, so an adapter stores none in clear), plus what several instances must agree
 * on that one process kept in memory: outstanding login challenges (single use) and rate-limit
 * windows. Mailbox quotas move INTO the store: an insert is admitted against the committed usage
 * atomically with the write, so instances sharing one database can never overfill a mailbox.
 *
 * Atomicity (each method is one transaction unless said otherwise):
 * - `takeBundle` hands each one-time prekey to exactly one caller, however many ask at once (P9).
 * - `applyMailboxBatch` is the group commit: all admitted inserts and all acks of a batch in one
 *   durable transaction; it resolves only after the commit. Within a batch, admission is FIFO per
 *   mailbox: once an envelope for a mailbox is refused, later ones for it in the batch are refused
 *   too (a later message never overtakes a refused earlier one). Server ids never repeat; for one
 *   recipient they become visible in ascending order, so a cursor (`pendingEnvelopes` afterId)
 *   never skips an envelope that commits later. An id is deleted by at most one ack.
 * - `takeChallenge` succeeds once per challenge.
 * - `hitRate` counts every hit exactly once across instances.
 * - `takeOverDevice` replaces prekeys and tokens and sets the device gate (P37) together.
 * Knows nothing of HTTP, sockets, tokens in clear, or crypto.
 */
import type { Window } from '../rate-limit';
import type { BundleParts, MailboxUsage, NewAccount, NewEnvelope, AckInput, PreKeyCounts, StoredEnvelope, StoredPreKeys } from './types';

export type { AckInput, BundleParts, MailboxUsage, NewAccount, NewEnvelope, PreKeyCounts, StoredEnvelope, StoredPreKeys };

/**
 * Per-mailbox limits a batch enforces together with its inserts (limits.ts mailboxMax*), and each
 * sender's share of them (P40 lockouts: one sender cannot fill a mailbox for everyone else).
 */
export interface MailboxQuota {
  maxCount: number;
  maxBytes: number;
  senderMaxCount: number;
  senderMaxBytes: number;
}

/**
 * Why an insert was not stored: the mailbox would hold too many envelopes or bytes, or this
 * sender's envelopes in it would exceed its share of either.
 */
export type QuotaRefusal = 'count' | 'bytes' | 'senderCount' | 'senderBytes';

export interface StoreBatchResult {
  /** Per insert, in input order: its server id, or why it was refused. Stored ids ascend in input order. */
  ids: (number | QuotaRefusal)[];
  /** Per ack input: what was actually deleted (ids not in that user's mailbox are ignored). */
  acked: MailboxUsage[];
  /**
   * Per insert (stored ones only meaningful): the highest id its mailbox held just before it, read
   * under the mailbox's lock. Only a store that several instances write (PostgreSQL) gives it: a
   * live push is in id order only if the socket already had everything up to that id (hub.ts).
   * Absent: this process is the only writer, so commit order is id order.
   */
  before?: number[];
}

/** A device's realm-token issuer key pair (account-record.ts, P38), one per host deployment. */
export interface IssuerKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface StoredRecord {
  /** SHA-256 of the record access key (P26): never the key itself. */
  keyHash: Uint8Array;
  /** The sealed, bucket-padded record. */
  record: Uint8Array;
  /** The takeover public key fixed with the first record (P37); absent on records from before it. */
  takeoverKey?: Uint8Array;
  updatedAt: number;
}

/** The sealed account records and the device gate (account-record.ts, DESIGN.md §7, P26, P37). */
export interface AccountRecordStore {
  getRecord(username: string): Promise<StoredRecord | undefined>;
  /**
   * Stores a first record (setting its key hash and takeover key) or replaces one whose key hash
   * and takeover key both match (a record without a takeover key takes this one); atomic.
   */
  putRecord(username: string, keyHash: Uint8Array, record: Uint8Array, takeoverKey: Uint8Array, now: number): Promise<'stored' | 'mismatch'>;
  /** Deletes the record if the key hash matches; atomic. */
  deleteRecord(username: string, keyHash: Uint8Array): Promise<'deleted' | 'absent' | 'mismatch'>;
  /** SHA-256 of the device secret of the browser that took the account over, if any. */
  deviceHash(username: string): Promise<Uint8Array | undefined>;
  /** The deployment's realm-token issuer key: the stored one, or `make()`'s, stored once (instances starting together agree). */
  issuerKey(make: () => IssuerKeyPair): Promise<IssuerKeyPair>;
}

export interface HostStore {
  readonly backend: 'sqlite' | 'postgres';
  readonly schemaVersion: number;

  // Directory (directory.ts)
  accountExists(username: string): Promise<boolean>;
  /** The encoded IdentityPublic stored at registration. */
  identity(username: string): Promise<Uint8Array | undefined>;
  /** Inserts the account and its prekeys atomically; false (and no change) if the name is taken. */
  createAccount(account: NewAccount): Promise<boolean>;
  /**
   * Adds prekeys in one transaction; a last-resort KEM key replaces the stored one (rotation).
   * False, and nothing stored, if that would leave the account without exactly one last-resort
   * KEM key (its id is already a one-time KEM key's, or the upload names two) (P40).
   */
  addPreKeys(username: string, keys: StoredPreKeys): Promise<boolean>;
  preKeyCounts(username: string): Promise<PreKeyCounts>;
  /**
   * Atomically hands out one one-time X25519 and one one-time KEM prekey (or the last resort);
   * with `oneTime` false only the signed and last-resort keys (the target's budget is spent, P40).
   */
  takeBundle(username: string, oneTime?: boolean): Promise<BundleParts | undefined>;

  // Authentication (auth.ts)
  /** Records an outstanding login challenge until `expiresAt`. */
  putChallenge(challenge: Uint8Array, expiresAt: number): Promise<void>;
  /** Consumes the challenge; true only for the one caller that took it while still live. */
  takeChallenge(challenge: Uint8Array, now: number): Promise<boolean>;
  putToken(hash: Uint8Array, username: string, expiresAt: number): Promise<void>;
  /** The username a live token hash belongs to. */
  tokenUser(hash: Uint8Array, now: number): Promise<string | undefined>;

  // Account records and takeover (account-record.ts)
  readonly records: AccountRecordStore;
  /**
   * Device takeover after a PIN restore (P37): drops every one-time and KEM prekey and every token
   * of `username` (the old browser's), stores `keys` (a fresh set) and sets the device gate.
   */
  takeOverDevice(username: string, keys: StoredPreKeys, deviceHash: Uint8Array): Promise<void>;

  // Mailbox (mailbox.ts, hub.ts)
  /** The group commit; see the module comment. Resolves once the batch is durable. */
  applyMailboxBatch(inserts: NewEnvelope[], acks: AckInput[], quota: MailboxQuota): Promise<StoreBatchResult>;
  /**
   * Envelopes for `username` with id > afterId, oldest first: at most `limit`, and no more once
   * their bodies reach `maxBytes` (the one that crosses it is included, so a page is never empty; P40).
   */
  pendingEnvelopes(username: string, afterId: number, limit: number, maxBytes?: number): Promise<StoredEnvelope[]>;
  mailboxUsage(username: string): Promise<MailboxUsage>;

  // Rate limits shared by every instance (rate-limit.ts semantics: fixed windows)
  /**
   * Counts one hit for `key` in `window` (or `weight` units, a positive integer); 0 if allowed,
   * else milliseconds until the window resets.
   */
  hitRate(key: string, window: Window, now: number, weight?: number): Promise<number>;

  /**
   * Deletes envelopes received before `before`, and expired tokens, challenges and rate windows,
   * in bounded transactions that never hold the mailboxes for long (P40); returns the number of
   * envelopes deleted.
   */
  sweep(before: number, now: number): Promise<number>;
  /** Waits for committed work, then releases the database; nothing committed is lost. */
  close(): Promise<void>;
}

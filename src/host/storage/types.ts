/**
 * The host's storage port (DESIGN.md §5, §9): what the directory, auth and mailbox services need,
 * as one synchronous interface so SQLite (sqlite.ts, the default) or another adapter can sit
 * behind it. It holds only what §9 allows the host to know: usernames, public identity keys and
 * prekeys, SHA-256 hashes of bearer tokens, and opaque ciphertext envelopes with recipient,
 * sender username, size and time. It never sees a private key or plaintext.
 *
 * Every method is atomic on its own; `applyMailboxBatch` is the group commit: a batch of inserts
 * and acks in one durable transaction, resolving only after the commit (sqlite: in a worker thread).
 * Envelope writes (batches and sweep chunks) apply in call order. An adapter that runs out of room
 * throws (or rejects with) StorageFullError, and deletes must keep working when it is full (P40).
 * Deleted envelopes must not stay readable in the adapter's files (P40 secure delete).
 */
import type { KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic } from '../../lib/crypto/prekeys';

export interface StoredPreKeys {
  signedPreKey?: SignedPreKeyPublic;
  oneTimePreKeys: OneTimePreKeyPublic[];
  /** One-time KEM prekeys and at most one last-resort KEM prekey (which replaces the old one). */
  kemPreKeys: KemPreKeyPublic[];
}

export interface NewAccount {
  username: string;
  /** Encoded, verified IdentityPublic (identity.ts). */
  identity: Uint8Array;
  createdAt: number;
  preKeys: StoredPreKeys & { signedPreKey: SignedPreKeyPublic };
}

/** What one bundle fetch consumed: the one-time keys are already deleted when this returns. */
export interface BundleParts {
  identity: Uint8Array;
  signedPreKey: SignedPreKeyPublic;
  oneTimePreKey?: OneTimePreKeyPublic;
  kemPreKey: KemPreKeyPublic;
}

export interface PreKeyCounts {
  oneTime: number;
  /** One-time KEM prekeys only; the last-resort key is always there. */
  kem: number;
}

export interface NewEnvelope {
  recipient: string;
  sender: string;
  receivedAt: number;
  body: Uint8Array;
}

export interface StoredEnvelope extends NewEnvelope {
  id: number;
}

export interface MailboxUsage {
  count: number;
  bytes: number;
}

/** A mailbox's usage in total and per sender (each sender's share of the quota is capped, P40). */
export interface MailboxTally extends MailboxUsage {
  bySender: Map<string, MailboxUsage>;
}

/** One sweep chunk: what it deleted, per recipient mailbox. */
export interface SweptChunk {
  envelopes: number;
  tokens: number;
  byRecipient: Map<string, MailboxTally>;
}

/**
 * The store has no room left (SQLite SQLITE_FULL, PostgreSQL disk_full). The host answers 503
 * with Retry-After and logs `reason`; nothing of the failed write is stored (P40).
 */
export class StorageFullError extends Error {
  constructor(readonly reason: string) {
    super(`storage full (${reason})`);
    this.name = 'StorageFullError';
  }
}

/** A sweep that failed part way: the error, with how many envelopes earlier chunks had deleted. */
export function sweepFailed(e: unknown, swept: number): unknown {
  return typeof e === 'object' && e !== null ? Object.assign(e, { swept }) : e;
}

export interface AckInput {
  username: string;
  ids: number[];
}

export interface MailboxBatchResult {
  /** Server ids of the inserted envelopes, in input order (ascending). */
  ids: number[];
  /** Per ack input: what was actually deleted (ids not in that user's mailbox are ignored). */
  acked: MailboxTally[];
}

export interface HostStorage {
  readonly schemaVersion: number;
  accountExists(username: string): boolean;
  /** The encoded IdentityPublic stored at registration. */
  identity(username: string): Uint8Array | undefined;
  /** Inserts the account and its prekeys atomically; false (and no change) if the name is taken. */
  createAccount(account: NewAccount): boolean;
  /**
   * Adds prekeys in one transaction; a last-resort KEM key replaces the stored one (rotation).
   * False, and nothing stored, if that would leave the account without exactly one last-resort
   * KEM key (its id is already a one-time KEM key's, or the upload names two).
   */
  addPreKeys(username: string, keys: StoredPreKeys): boolean;
  preKeyCounts(username: string): PreKeyCounts;
  /**
   * Atomically hands out one one-time X25519 and one one-time KEM prekey (or the last resort);
   * with `oneTime` false, only the signed and last-resort keys (the target's one-time budget is spent).
   */
  takeBundle(username: string, oneTime?: boolean): BundleParts | undefined;
  putToken(hash: Uint8Array, username: string, expiresAt: number): void;
  /** The username a live token hash belongs to. */
  tokenUser(hash: Uint8Array, now: number): string | undefined;
  /** Resolves once the batch is committed durably; batches commit in call order. */
  applyMailboxBatch(inserts: NewEnvelope[], acks: AckInput[]): Promise<MailboxBatchResult>;
  /**
   * Envelopes for `username` with id > afterId, oldest first: at most `limit`, and no more once
   * their bodies reach `maxBytes` (the envelope that crosses it is included, so a page is never empty).
   */
  pendingEnvelopes(username: string, afterId: number, limit: number, maxBytes?: number): StoredEnvelope[];
  mailboxUsage(username: string): MailboxTally;
  /**
   * Device takeover after a PIN restore (DESIGN.md §7, P37): in ONE transaction drops every one-time and
   * KEM prekey and every token of `username` (the old browser's), stores `keys` (a fresh set) and
   * sets the device gate to `deviceHash`, so no crash can leave new keys with an open gate or a
   * closed gate with the old browser's keys.
   */
  replaceDevice(username: string, keys: StoredPreKeys, deviceHash: Uint8Array): void;
  /** SHA-256 of the device secret a takeover registered (the login gate), if any. */
  deviceHash(username: string): Uint8Array | undefined;
  /**
   * Retention in bounded chunks (P40): deletes at most `limit` envelopes received before `before`
   * and at most `limit` tokens expired by `now`, in one transaction queued behind the mailbox
   * batches (so a long sweep never holds the event loop or the write lock for long).
   */
  sweepChunk(before: number, now: number, limit: number): Promise<SweptChunk>;
  /** Checkpoints and closes; nothing committed is lost. */
  close(): Promise<void>;
}

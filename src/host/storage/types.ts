/**
 * The host's storage port (DESIGN.md §5, §9): what the directory, auth and mailbox services need,
 * as one synchronous interface so SQLite (sqlite.ts, the default) or another adapter can sit
 * behind it. It holds only what §9 allows the host to know: usernames, public identity keys and
 * prekeys, SHA-256 hashes of bearer tokens, and opaque ciphertext envelopes with recipient,
 * sender username, size and time. It never sees a private key or plaintext.
 *
 * Every method is atomic on its own; `applyMailboxBatch` is the group commit: a batch of inserts
 * and acks in one durable transaction, resolving only after the commit (sqlite: in a worker thread).
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

export interface AckInput {
  username: string;
  ids: number[];
}

export interface MailboxBatchResult {
  /** Server ids of the inserted envelopes, in input order (ascending). */
  ids: number[];
  /** Per ack input: what was actually deleted (ids not in that user's mailbox are ignored). */
  acked: MailboxUsage[];
}

export interface HostStorage {
  readonly schemaVersion: number;
  accountExists(username: string): boolean;
  /** The encoded IdentityPublic stored at registration. */
  identity(username: string): Uint8Array | undefined;
  /** Inserts the account and its prekeys atomically; false (and no change) if the name is taken. */
  createAccount(account: NewAccount): boolean;
  addPreKeys(username: string, keys: StoredPreKeys): void;
  preKeyCounts(username: string): PreKeyCounts;
  /** Atomically hands out one one-time X25519 and one one-time KEM prekey (or the last resort). */
  takeBundle(username: string): BundleParts | undefined;
  putToken(hash: Uint8Array, username: string, expiresAt: number): void;
  /** The username a live token hash belongs to. */
  tokenUser(hash: Uint8Array, now: number): string | undefined;
  /** Resolves once the batch is committed durably; batches commit in call order. */
  applyMailboxBatch(inserts: NewEnvelope[], acks: AckInput[]): Promise<MailboxBatchResult>;
  /** Envelopes for `username` with id > afterId, oldest first. */
  pendingEnvelopes(username: string, afterId: number, limit: number): StoredEnvelope[];
  mailboxUsage(username: string): MailboxUsage;
  /**
   * Device takeover after a PIN restore (DESIGN.md §7, P37): in ONE transaction drops every one-time and
   * KEM prekey and every token of `username` (the old browser's), stores `keys` (a fresh set) and
   * sets the device gate to `deviceHash`, so no crash can leave new keys with an open gate or a
   * closed gate with the old browser's keys.
   */
  replaceDevice(username: string, keys: StoredPreKeys, deviceHash: Uint8Array): void;
  /** SHA-256 of the device secret a takeover registered (the login gate), if any. */
  deviceHash(username: string): Uint8Array | undefined;
  /** Deletes envelopes received before `before` and expired tokens; returns envelopes deleted. */
  sweep(before: number, now: number): number;
  /** Checkpoints and closes; nothing committed is lost. */
  close(): Promise<void>;
}

/**
 * The engine's own error codes (STYLE.md "Errors belong to their owner"): what the vault says
 * about accounts, contacts, the host connection and local storage, as opposed to the protocol
 * core's ProtocolError codes. Both cross the worker boundary by code (src/lib/vault/result.ts).
 */
import { CodedError } from '../../src/lib/codec/errors';

export const EngineErrorCode = {
  /** The host knows no account by that name. */
  NoSuchUser: 'NoSuchUser',
  UsernameTaken: 'UsernameTaken',
  /** The host (or a realm) cannot be reached or refused for now: try again later. */
  Unavailable: 'Unavailable',
  /** Too many anonymous lookups from this address (private discovery, P40): the user waits, nothing retries. */
  RateLimited: 'RateLimited',
  /**
   * The host is reachable but asked to try again shortly (503) for something the user waits on: a
   * lookup while its index is being filled after an upgrade, a sign-up while its hashing is full.
   * Not "offline": the screen says the server is busy.
   */
  HostBusy: 'HostBusy',
  /** The contact is blocked: nothing is sent until the user unblocks. */
  Blocked: 'Blocked',
  NoAccount: 'NoAccount',
  /** The vault's keys or identity are gone or do not open while account data remains (P33): route to restore. */
  StorageLost: 'StorageLost',
  /** The account was restored on another browser: this one is signed out for good. */
  SignedOut: 'SignedOut',
  /** The safety number or scanned code the user compared is not the one for the key being marked (P3). */
  SafetyNumberMismatch: 'SafetyNumberMismatch',
  /** A PreKeyMessage whose handshake this vault already accepted once (P9, P13): acked, never shown. */
  ReplayedPreKeyMessage: 'ReplayedPreKeyMessage',
  /** The message came from an identity the user rejected for this contact (P36). */
  RejectedIdentity: 'RejectedIdentity',
  /** The app lock is on and the vault is locked: nothing but the lock's own methods answers (P46). */
  Locked: 'Locked',
  /** The app lock's passphrase (or passkey) did not open the lock key; nothing changed (P46). */
  WrongPassphrase: 'WrongPassphrase',
  /** No group by that id in this vault (README "Groups"). */
  NoSuchGroup: 'NoSuchGroup',
  /** We are no longer a member of the group: nothing is sent to it (P21). */
  NotGroupMember: 'NotGroupMember',
  /** A member's message showed a newer group state that we could not fetch: sending waits (P19). */
  GroupOutOfDate: 'GroupOutOfDate',
  /** The group invite link was reset or turned off by an admin (its old blob says so, sealed under it). */
  InviteLinkReset: 'InviteLinkReset',
  /** No group behind this invite link: mistyped, never made, or its blob does not open. */
  InviteLinkInvalid: 'InviteLinkInvalid',
  /** A downloaded file is not the one the sender sealed (P40): it was changed in transit and not opened. */
  Tampered: 'Tampered',
  /** A file beyond MAX_ATTACHMENT_BYTES, refused before anything was uploaded. */
  TooLarge: 'TooLarge',
  /** The file's blob is no longer on the host (30-day retention). */
  FileGone: 'FileGone',
  /** The user removed this browser's copy of the file (Manage storage) and the host no longer has it. */
  FileRemoved: 'FileRemoved'
} as const;
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

export class EngineError extends CodedError<EngineErrorCode> {}

export function engineFail(code: EngineErrorCode, message: string): never {
  throw new EngineError(code, message);
}

export function isEngineError(e: unknown, code?: EngineErrorCode): e is EngineError {
  return e instanceof EngineError && (code === undefined || e.code === code);
}

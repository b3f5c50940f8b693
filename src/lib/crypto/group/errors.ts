/**
 * The group core's refusal codes (P19): why a membership change was not applied.
 *
 * A change that does not decode is a ProtocolError (DecodeFailed, UnsupportedVersion) like every
 * other format; a change that decodes but may not be applied is a GroupError with one of these
 * codes, its message naming versions and counts, never keys. Sender-key failures reuse the
 * ratchet's ProtocolError codes (InvalidMac, DuplicateMessage, TooBigMessageGap...), since they
 * mean the same thing. Imports nothing but the shared error shape.
 */
import { CodedError } from '../../codec/errors';

export const GroupErrorCode = {
  /** The change or message names another group. */
  WrongGroup: 'WrongGroup',
  /** The change is based on a version older than the one it was offered to (or below the kept history). */
  RolledBack: 'RolledBack',
  /** Same base version, different base hash: a concurrent branch (group-history.ts resolves it). */
  ForkedBase: 'ForkedBase',
  /** The change is based on a version this state has not reached yet. */
  MissingBase: 'MissingBase',
  /** The author is not a member (the host is never one) and the change is not a valid join by link. */
  UnknownAuthor: 'UnknownAuthor',
  /** The author's signature (or the invite link's) does not verify. */
  InvalidSignature: 'InvalidSignature',
  /** The action needs an admin. */
  NotAdmin: 'NotAdmin',
  /** The group's settings reserve the action for admins. */
  NotPermitted: 'NotPermitted',
  NotMember: 'NotMember',
  AlreadyMember: 'AlreadyMember',
  NotPending: 'NotPending',
  /** The group would be left with members but no admin. */
  LastAdmin: 'LastAdmin',
  /** A join by link while the link is off. */
  InviteLinkOff: 'InviteLinkOff',
  /** The invite blob at a link's address is the admins' sealed notice that the link was reset or turned off. */
  InviteLinkReset: 'InviteLinkReset',
  TooManyMembers: 'TooManyMembers',
  TooManyPending: 'TooManyPending',
  /** A structurally wrong change: empty, a leave that is not last, a no-op role change, bad text. */
  InvalidAction: 'InvalidAction'
} as const;
export type GroupErrorCode = (typeof GroupErrorCode)[keyof typeof GroupErrorCode];

export class GroupError extends CodedError<GroupErrorCode> {}

export function groupFail(code: GroupErrorCode, message: string): never {
  throw new GroupError(code, message);
}

export function isGroupError(e: unknown, code?: GroupErrorCode): e is GroupError {
  return e instanceof GroupError && (code === undefined || e.code === code);
}

/**
 * What the group screens say when a membership change or group send is refused (README "Groups",
 * P19): one sentence per code a group call can fail with, saying what happened and that nothing
 * changed, never a raw code. The group core's codes are listed exhaustively, so a new one fails
 * the type check until it has words here.
 */
import type { GroupErrorCode } from '$lib/crypto/group/errors';

const GROUP_CORE: Record<GroupErrorCode, string> = {
  WrongGroup: 'That change belongs to another group. Nothing was changed.',
  RolledBack: 'The group changed meanwhile. Nothing was changed; look at the group again and retry.',
  ForkedBase: 'Another admin changed the group at the same time. Nothing was changed; try again.',
  MissingBase: 'This device has not caught up with the group yet. Nothing was changed; try again in a moment.',
  UnknownAuthor: 'Only members can change the group. Nothing was changed.',
  InvalidSignature: 'That change was not signed by a member and was refused. Nothing was changed.',
  NotAdmin: 'Only admins can do that.',
  NotPermitted: 'The group’s settings allow only admins to do that.',
  NotMember: 'That person is not a member of the group.',
  AlreadyMember: 'That person is already in the group.',
  NotPending: 'That person is not waiting for approval.',
  LastAdmin: 'Make someone else an admin before you leave.',
  InviteLinkOff: 'The group’s invite link is turned off.',
  InviteLinkReset: 'This link was reset. Ask an admin of the group for the new link.',
  TooManyMembers: 'The group is full. Nothing was changed.',
  TooManyPending: 'Too many people are waiting for approval. Nothing was changed.',
  InvalidAction: 'That change is not possible for this group. Nothing was changed.'
};

const ENGINE: Record<string, string> = {
  NoSuchUser: 'No user by that name. Check the spelling.',
  NotGroupMember: 'You are no longer a member of this group.',
  NoSuchGroup: 'This group is no longer on this device.',
  GroupOutOfDate: 'This device is catching up with the group. Try again in a moment.',
  Blocked: 'You blocked that person. Unblock them first.',
  Unavailable: 'Parley is not reachable right now. Nothing was changed; try again when you are online.',
  InvalidArgument: 'Check the usernames and try again. Nothing was changed.',
  Locked: 'Parley is locked. Unlock it and try again.',
  RateLimited: 'Too many lookups from this network just now. Wait a minute, then try again.'
};

export function groupErrorText(code: string): string {
  return (GROUP_CORE as Record<string, string>)[code] ?? ENGINE[code] ?? 'That did not work, and nothing was changed. Try again.';
}

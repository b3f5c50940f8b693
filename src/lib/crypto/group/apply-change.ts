/**
 * Applying one membership change to the state it was written against (P19). The rules:
 *
 *   1. the change names this group, and its base is exactly this state: base version = version
 *      (older: RolledBack, newer: MissingBase) and base hash = stateHash(state) (ForkedBase);
 *   2. its author is a member of this state and the signature verifies under that member's
 *      identity key — the host has no identity here, so nothing it writes passes. The one
 *      exception is a join by link: a non-member whose change is a single joinByLink, signed by
 *      the joiner's own identity and by the link's key named in the state (the join credential);
 *   3. every action is allowed to its author in the state as the actions before it left it:
 *      roles, removals, settings and the link need an admin; adding members and editing the
 *      name, description and avatar need an admin unless the settings open them to members;
 *      the last admin cannot leave or step down while other members remain (LastAdmin).
 *
 * The result is version + 1 with prevHash = stateHash(state). Pure: on any refusal a GroupError
 * is thrown and nothing is returned; inputs are never mutated. Knows nothing of concurrent
 * histories (group-history.ts) or sender keys.
 */
import { bytesEqual } from '../../codec/bytes';
import { isProtocolError } from '../../codec/errors';
import { verifyIdentity, type IdentityPublic } from '../identity';
import { sameAddress, type Address } from './address';
import { groupFail } from './errors';
import { verifyChangeSignature, verifyInviteProof, type GroupAction, type GroupChange } from './group-change';
import { stateHash } from './group-state-codec';
import { Access, Role, adminCount, findMember, findPending, insertByAddress, type GroupState, type JoinRequest, type Member } from './group-state';
import { MAX_AVATAR_BYTES, MAX_DESCRIPTION_BYTES, MAX_MEMBERS, MAX_NAME_BYTES, MAX_PENDING } from './limits';
import { textBytes } from './text';

/** Rule 1: the change's group and base. */
export function checkBase(state: GroupState, change: GroupChange): void {
  if (!bytesEqual(change.groupId, state.groupId)) groupFail('WrongGroup', 'change names another group');
  if (change.baseVersion < state.version) groupFail('RolledBack', `base version ${change.baseVersion} is behind version ${state.version}`);
  if (change.baseVersion > state.version) groupFail('MissingBase', `base version ${change.baseVersion} is ahead of version ${state.version}`);
  if (!bytesEqual(change.baseHash, stateHash(state))) groupFail('ForkedBase', `base version ${change.baseVersion} has another hash`);
}

function checkIdentity(identity: IdentityPublic, whose: string): void {
  try {
    verifyIdentity(identity);
  } catch (e) {
    if (isProtocolError(e)) groupFail('InvalidSignature', `${whose} identity key is not self-signed`);
    throw e;
  }
}

/** Rule 2: who wrote it, proven by signatures. */
export function authenticateChange(state: GroupState, change: GroupChange): void {
  const member = findMember(state, change.author);
  if (member) {
    if (change.inviteProof !== null) groupFail('InvalidAction', 'a member\'s change carries an invite proof');
    if (!verifyChangeSignature(change, member.identity.signingKey)) groupFail('InvalidSignature', `change to version ${change.baseVersion + 1} not signed by its author`);
    return;
  }
  const [only, ...rest] = change.actions;
  if (only?.type !== 'joinByLink' || rest.length > 0) groupFail('UnknownAuthor', `author is not one of ${state.members.length} members`);
  if (!state.invite) groupFail('InviteLinkOff', 'join by link while the link is off');
  checkIdentity(only.identity, 'joiner\'s');
  if (!verifyChangeSignature(change, only.identity.signingKey)) groupFail('InvalidSignature', 'join not signed by the joiner');
  if (!verifyInviteProof(change, state.invite.publicKey)) groupFail('InvalidSignature', `join not signed by invite link ${state.inviteVersion}`);
}

/** Rules 1–3: the next state, or a GroupError. */
export function applyChange(state: GroupState, change: GroupChange): GroupState {
  checkBase(state, change);
  authenticateChange(state, change);
  return applyActions(state, change.author, change.actions);
}

type Draft = { -readonly [K in keyof GroupState]: GroupState[K] };

function requireMember(d: Draft, author: Address): Member {
  const m = findMember(d, author);
  if (!m) return groupFail('NotMember', 'author is no longer a member');
  return m;
}

function requireAdmin(d: Draft, author: Address, what: string): void {
  if (requireMember(d, author).role !== Role.admin) groupFail('NotAdmin', `${what} needs an admin`);
}

function requireAccess(d: Draft, author: Address, access: Access, what: string): void {
  const m = requireMember(d, author);
  if (m.role !== Role.admin && access === Access.admins) groupFail('NotPermitted', `${what} is reserved for admins`);
}

function checkText(what: string, s: string, max: number): void {
  try {
    textBytes(what, s, max);
  } catch (e) {
    if (isProtocolError(e)) groupFail('InvalidAction', e.message);
    throw e;
  }
}

function addMember(d: Draft, m: Member): void {
  if (d.members.length >= MAX_MEMBERS) groupFail('TooManyMembers', `group is full at ${MAX_MEMBERS} members`);
  d.members = insertByAddress(d.members, m);
  d.pending = d.pending.filter((p) => !sameAddress(p.address, m.address));
}

function removeMember(d: Draft, a: Address): void {
  d.members = d.members.filter((m) => !sameAddress(m.address, a));
}

function applyAction(d: Draft, author: Address, a: GroupAction, last: boolean, nextVersion: number): void {
  switch (a.type) {
    case 'addMember': {
      if (a.role === Role.admin) requireAdmin(d, author, 'adding an admin');
      else requireAccess(d, author, d.settings.addMembers, 'adding members');
      if (findMember(d, a.address)) groupFail('AlreadyMember', 'added address is already a member');
      checkIdentity(a.identity, 'added member\'s');
      addMember(d, { address: a.address, identity: a.identity, role: a.role, joinedAt: nextVersion });
      return;
    }
    case 'removeMember': {
      requireAdmin(d, author, 'removing a member');
      if (sameAddress(a.address, author)) groupFail('InvalidAction', 'an author removes itself with leave');
      if (!findMember(d, a.address)) groupFail('NotMember', 'removed address is not a member');
      removeMember(d, a.address);
      return;
    }
    case 'setRole': {
      requireAdmin(d, author, 'changing a role');
      const target = findMember(d, a.address);
      if (!target) return groupFail('NotMember', 'address is not a member');
      if (target.role === a.role) groupFail('InvalidAction', `member already has role ${a.role}`);
      if (target.role === Role.admin && adminCount(d) === 1) groupFail('LastAdmin', 'the only admin cannot step down; promote someone first');
      d.members = d.members.map((m) => (m === target ? { ...m, role: a.role } : m));
      return;
    }
    case 'leave': {
      if (!last) groupFail('InvalidAction', 'leave must be the last action');
      const me = requireMember(d, author);
      if (me.role === Role.admin && adminCount(d) === 1 && d.members.length > 1) {
        groupFail('LastAdmin', `the only admin cannot leave ${d.members.length - 1} members without an admin`);
      }
      removeMember(d, author);
      return;
    }
    case 'setName':
      requireAccess(d, author, d.settings.editInfo, 'editing the name');
      checkText('name', a.name, MAX_NAME_BYTES);
      d.name = a.name;
      return;
    case 'setDescription':
      requireAccess(d, author, d.settings.editInfo, 'editing the description');
      checkText('description', a.description, MAX_DESCRIPTION_BYTES);
      d.description = a.description;
      return;
    case 'setAvatar':
      requireAccess(d, author, d.settings.editInfo, 'editing the avatar');
      if (a.avatar !== null && (a.avatar.length === 0 || a.avatar.length > MAX_AVATAR_BYTES)) {
        groupFail('InvalidAction', `avatar of ${a.avatar.length} bytes, expected 1..${MAX_AVATAR_BYTES}`);
      }
      d.avatar = a.avatar === null ? null : a.avatar.slice();
      return;
    case 'setAccess':
      requireAdmin(d, author, 'changing settings');
      d.settings = { ...d.settings, [a.setting]: a.access };
      return;
    case 'setInviteLink':
      requireAdmin(d, author, 'changing the invite link');
      if (a.invite === null) {
        d.invite = null;
        return;
      }
      if (a.invite.publicKey.length !== 32) groupFail('InvalidAction', `invite key of ${a.invite.publicKey.length} bytes`);
      // A new key is a reset (old links stop working); the same key only changes approval.
      if (!d.invite || !bytesEqual(d.invite.publicKey, a.invite.publicKey)) d.inviteVersion += 1;
      d.invite = { publicKey: a.invite.publicKey.slice(), approval: a.invite.approval };
      return;
    case 'joinByLink': {
      if (findMember(d, author)) groupFail('AlreadyMember', 'joiner is already a member');
      if (findPending(d, author)) groupFail('InvalidAction', 'joiner has already asked to join');
      if (!d.invite) return groupFail('InviteLinkOff', 'join by link while the link is off');
      if (d.invite.approval) {
        if (d.pending.length >= MAX_PENDING) groupFail('TooManyPending', `${MAX_PENDING} requests already pending`);
        const req: JoinRequest = { address: author, identity: a.identity, requestedAt: nextVersion };
        d.pending = insertByAddress(d.pending, req);
      } else {
        addMember(d, { address: author, identity: a.identity, role: Role.member, joinedAt: nextVersion });
      }
      return;
    }
    case 'approveJoin': {
      requireAdmin(d, author, 'approving a request');
      const req = findPending(d, a.address);
      if (!req) return groupFail('NotPending', 'no such request');
      addMember(d, { address: req.address, identity: req.identity, role: Role.member, joinedAt: nextVersion });
      return;
    }
    case 'denyJoin':
      requireAdmin(d, author, 'denying a request');
      if (!findPending(d, a.address)) groupFail('NotPending', 'no such request');
      d.pending = d.pending.filter((p) => !sameAddress(p.address, a.address));
      return;
  }
}

/**
 * Rule 3 alone: the actions' effect as `author`, as if signed (used by applyChange after the
 * signatures, and by group-history.ts to find which of a voided change's actions still apply).
 * A joiner (non-member) may only joinByLink.
 */
export function applyActions(state: GroupState, author: Address, actions: readonly GroupAction[]): GroupState {
  if (actions.length === 0) groupFail('InvalidAction', 'a change with no actions');
  const joiner = !findMember(state, author);
  if (joiner && (actions.length !== 1 || actions[0]!.type !== 'joinByLink')) groupFail('UnknownAuthor', `author is not one of ${state.members.length} members`);
  const nextVersion = state.version + 1;
  const d: Draft = { ...state };
  actions.forEach((a, i) => applyAction(d, author, a, i === actions.length - 1, nextVersion));
  d.version = nextVersion;
  d.prevHash = stateHash(state);
  return d;
}

/**
 * GroupState's strict, versioned encoding and its hash (P19: the hash is what the next change
 * signs as its base, so two members agree on a state exactly when they agree on these bytes).
 *
 *   state   = u8 format (1) || groupId (32) || u32 version || prevHash (32)
 *             || u16 name || u16 description || u8 flag [u16 avatar]
 *             || u8 editInfo || u8 addMembers (1 admins, 2 members)
 *             || u32 inviteVersion || u8 flag [typed Ed25519 key (33) || u8 approval]
 *             || u16 count || member* || u16 count || request*
 *   member  = address || IdentityPublic (131) || u8 role (1 admin, 2 member) || u32 joinedAt
 *   request = address || IdentityPublic || u32 requestedAt
 *   hash    = SHA-256("Parley_GroupStateDigest" || state)
 *
 * Canonical: lists strictly in address order, pending disjoint from members, a non-empty
 * member list has an admin, versions in range; anything else is DecodeFailed, so one state has
 * one encoding. Identity signatures are not re-verified here (a member's identity was verified
 * when the change that added it was applied); decoding trusts the bytes' source, which is our own
 * storage or an authenticated welcome. Knows nothing of changes or keys beyond their encodings.
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter } from '../../codec/bytes';
import { KeyType, encodeKey, readKey } from '../../codec/keys';
import { IDENTITY_PUBLIC_LEN, readIdentityPublic, writeIdentityPublic } from '../identity';
import { USERNAME_MAX } from '../../codec/username';
import { Labels, labelBytes } from '../labels';
import { sha256 } from '../primitives';
import { addressKey, compareAddress, readAddress, writeAddress, type Address } from './address';
import { MAX_AVATAR_BYTES, MAX_DESCRIPTION_BYTES, MAX_MEMBERS, MAX_NAME_BYTES, MAX_PENDING } from './limits';
import { readText, writeText } from './text';
import { Access, GROUP_ID_LEN, Role, STATE_HASH_LEN, type GroupState, type JoinRequest, type Member } from './group-state';

/** A member's or request's entry at most: address (u8 length, name, u32 device), identity, role and time. */
const MEMBER_BYTES_MAX = 1 + USERNAME_MAX + 4 + IDENTITY_PUBLIC_LEN + 1 + 4;

export const STATE_FORMAT = 1;
const MAX_VERSION = 0xffff_ffff;

const ROLE_CODE = { [Role.admin]: 1, [Role.member]: 2 } as const;
const ACCESS_CODE = { [Access.admins]: 1, [Access.members]: 2 } as const;

export function readRole(r: ByteReader): Member['role'] {
  const c = r.u8();
  if (c === 1) return Role.admin;
  if (c === 2) return Role.member;
  return fail('DecodeFailed', `role byte ${c}`);
}

function readAccess(r: ByteReader): GroupState['settings']['editInfo'] {
  const c = r.u8();
  if (c === 1) return Access.admins;
  if (c === 2) return Access.members;
  return fail('DecodeFailed', `access byte ${c}`);
}

export function writeRole(w: ByteWriter, role: Member['role']): ByteWriter {
  return w.u8(ROLE_CODE[role]);
}

export function readFlag(r: ByteReader, what: string): boolean {
  const f = r.u8();
  if (f > 1) fail('DecodeFailed', `${what}: flag byte ${f}`);
  return f === 1;
}

export function writeAvatar(w: ByteWriter, avatar: Uint8Array | null): ByteWriter {
  if (avatar === null) return w.u8(0);
  if (avatar.length === 0 || avatar.length > MAX_AVATAR_BYTES) fail('InvalidArgument', `avatar of ${avatar.length} bytes, expected 1..${MAX_AVATAR_BYTES}`);
  return w.u8(1).bytes16(avatar);
}

export function readAvatar(r: ByteReader): Uint8Array | null {
  if (!readFlag(r, 'avatar')) return null;
  const a = r.bytes16(MAX_AVATAR_BYTES);
  if (a.length === 0) fail('DecodeFailed', 'avatar of 0 bytes');
  return a;
}

function checkSorted(list: readonly { address: Address }[], what: string): void {
  for (let i = 1; i < list.length; i++) {
    if (compareAddress(list[i - 1]!.address, list[i]!.address) >= 0) fail('DecodeFailed', `${what}: entry ${i} out of order or repeated`);
  }
}

function checkVersion(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > MAX_VERSION) fail('InvalidArgument', `${what} ${v} outside u32`);
}

export function encodeGroupState(s: GroupState): Uint8Array {
  checkVersion(s.version, 'version');
  checkVersion(s.inviteVersion, 'inviteVersion');
  if (s.members.length > MAX_MEMBERS) fail('InvalidArgument', `${s.members.length} members exceed ${MAX_MEMBERS}`);
  if (s.pending.length > MAX_PENDING) fail('InvalidArgument', `${s.pending.length} requests exceed ${MAX_PENDING}`);
  // Sized for the members up front: a 1000-member state is ~170 KB, encoded (and hashed) once per
  // change a stored history replays; a writer growing from its default copied it a dozen times.
  const w = new ByteWriter(1024 + (s.members.length + s.pending.length) * MEMBER_BYTES_MAX).u8(STATE_FORMAT).fixed(s.groupId, GROUP_ID_LEN).u32(s.version).fixed(s.prevHash, STATE_HASH_LEN);
  writeText(w, 'name', s.name, MAX_NAME_BYTES);
  writeText(w, 'description', s.description, MAX_DESCRIPTION_BYTES);
  writeAvatar(w, s.avatar);
  w.u8(ACCESS_CODE[s.settings.editInfo]).u8(ACCESS_CODE[s.settings.addMembers]).u32(s.inviteVersion);
  if (s.invite) w.u8(1).raw(encodeKey(KeyType.Ed25519, s.invite.publicKey)).u8(s.invite.approval ? 1 : 0);
  else w.u8(0);
  w.u16(s.members.length);
  for (const m of s.members) {
    checkVersion(m.joinedAt, 'joinedAt');
    writeIdentityPublic(writeAddress(w, m.address), m.identity);
    writeRole(w, m.role).u32(m.joinedAt);
  }
  w.u16(s.pending.length);
  for (const p of s.pending) {
    checkVersion(p.requestedAt, 'requestedAt');
    writeIdentityPublic(writeAddress(w, p.address), p.identity).u32(p.requestedAt);
  }
  return w.finish();
}

export function readGroupState(r: ByteReader): GroupState {
  const format = r.u8();
  if (format !== STATE_FORMAT) fail('UnsupportedVersion', `group state format ${format}`);
  const groupId = r.fixed(GROUP_ID_LEN);
  const version = r.u32();
  const prevHash = r.fixed(STATE_HASH_LEN);
  const name = readText(r, 'name', MAX_NAME_BYTES);
  const description = readText(r, 'description', MAX_DESCRIPTION_BYTES);
  const avatar = readAvatar(r);
  const settings = { editInfo: readAccess(r), addMembers: readAccess(r) };
  const inviteVersion = r.u32();
  const invite = readFlag(r, 'invite') ? { publicKey: readKey(r, KeyType.Ed25519), approval: readFlag(r, 'approval') } : null;
  const memberCount = r.u16();
  if (memberCount > MAX_MEMBERS) fail('DecodeFailed', `${memberCount} members exceed ${MAX_MEMBERS}`);
  const members: Member[] = [];
  for (let i = 0; i < memberCount; i++) {
    const address = readAddress(r);
    const identity = readIdentityPublic(r);
    const role = readRole(r);
    const joinedAt = r.u32();
    if (joinedAt > version) fail('DecodeFailed', `member joined at ${joinedAt}, after version ${version}`);
    members.push({ address, identity, role, joinedAt });
  }
  const pendingCount = r.u16();
  if (pendingCount > MAX_PENDING) fail('DecodeFailed', `${pendingCount} requests exceed ${MAX_PENDING}`);
  const pending: JoinRequest[] = [];
  for (let i = 0; i < pendingCount; i++) {
    const address = readAddress(r);
    const identity = readIdentityPublic(r);
    const requestedAt = r.u32();
    if (requestedAt > version) fail('DecodeFailed', `request at ${requestedAt}, after version ${version}`);
    pending.push({ address, identity, requestedAt });
  }
  checkSorted(members, 'members');
  checkSorted(pending, 'pending');
  if (members.length > 0 && !members.some((m) => m.role === Role.admin)) fail('DecodeFailed', `${members.length} members and no admin`);
  const keys = new Set(members.map((m) => addressKey(m.address)));
  if (pending.some((p) => keys.has(addressKey(p.address)))) fail('DecodeFailed', 'a pending request names a member');
  if (version === 0 && prevHash.some((b) => b !== 0)) fail('DecodeFailed', 'genesis with a previous hash');
  return { groupId, version, prevHash, name, description, avatar, settings, invite, inviteVersion, members, pending };
}

export function decodeGroupState(bytes: Uint8Array): GroupState {
  const r = new ByteReader(bytes, 'group state');
  const s = readGroupState(r);
  r.end();
  return s;
}

const STATE_DIGEST = labelBytes(Labels.groupStateDigest);
// States are immutable values; the hash of one object is computed once (a 1000-member state is
// ~180 KB to encode), and the cache holds nothing the object does not.
const hashes = new WeakMap<GroupState, Uint8Array>();

/** SHA-256 over the label and the canonical encoding; a copy, so callers may keep or wipe it. */
export function stateHash(s: GroupState): Uint8Array {
  let h = hashes.get(s);
  if (!h) {
    const enc = encodeGroupState(s);
    const input = new Uint8Array(STATE_DIGEST.length + enc.length);
    input.set(STATE_DIGEST, 0);
    input.set(enc, STATE_DIGEST.length);
    h = sha256(input);
    hashes.set(s, h);
  }
  return h.slice();
}

/**
 * A membership change (P19): a list of actions, signed by its author's identity key and chained
 * to the exact state it was written against (base version and base hash). apply-change.ts
 * decides whether a change may be applied; this module owns its shape, its strict encoding, its
 * signatures and its id.
 *
 *   change = body || u8 flag [invite proof (64)] || signature (64)
 *   body   = u8 format (1) || groupId (32) || u32 baseVersion || baseHash (32) || author address
 *            || u8 count (1..128) || action*
 *   action = u8 type || fields (see writeAction)
 *   signature    = Ed25519 by the author's identity key (IKs) over "Parley_GroupChangeSig" || body
 *   invite proof = Ed25519 by the invite link's key over "Parley_GroupInviteProof" || body
 *                  (only on a join by link: the join credential, group-secret.ts)
 *   id     = SHA-256("Parley_GroupChangeDigest" || change)
 *
 * The host has no identity in any group state, so it can author nothing a member will apply.
 * Knows nothing of the rules (apply-change.ts) or of concurrent histories (group-history.ts).
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter, toHex } from '../../codec/bytes';
import { KeyType, encodeKey, readKey } from '../../codec/keys';
import { encodeIdentityPublic, readIdentityPublic, type IdentityKeyPair, type IdentityPublic } from '../identity';
import { Labels, labelBytes } from '../labels';
import { ed25519Sign, ed25519Verify, sha256, SIGNATURE_LEN, type KeyPair } from '../primitives';
import { readAddress, writeAddress, type Address } from './address';
import { GROUP_ID_LEN, STATE_HASH_LEN, Access, type GroupState, type InviteLink, type Role } from './group-state';
import { readAvatar, readFlag, readRole, stateHash, writeAvatar, writeRole } from './group-state-codec';
import { MAX_ACTIONS, MAX_CHANGE_BYTES, MAX_DESCRIPTION_BYTES, MAX_NAME_BYTES } from './limits';
import { readText, writeText } from './text';

export const CHANGE_FORMAT = 1;

export type GroupAction =
  /** Admin (or any member if addMembers is 'members', for role member only). */
  | { readonly type: 'addMember'; readonly address: Address; readonly identity: IdentityPublic; readonly role: Role }
  /** Admin; never oneself (that is `leave`). */
  | { readonly type: 'removeMember'; readonly address: Address }
  /** Admin: promote or demote. */
  | { readonly type: 'setRole'; readonly address: Address; readonly role: Role }
  /** The author leaves; must be the change's last action. */
  | { readonly type: 'leave' }
  /** Admin (or any member if editInfo is 'members'). */
  | { readonly type: 'setName'; readonly name: string }
  | { readonly type: 'setDescription'; readonly description: string }
  | { readonly type: 'setAvatar'; readonly avatar: Uint8Array | null }
  /** Admin: who may edit the info / add members. */
  | { readonly type: 'setAccess'; readonly setting: 'editInfo' | 'addMembers'; readonly access: Access }
  /** Admin: turn the link on (a new key resets it) or off. */
  | { readonly type: 'setInviteLink'; readonly invite: InviteLink | null }
  /** A non-member with the link: joins, or asks to (approval on). Signed by the joiner and the link. */
  | { readonly type: 'joinByLink'; readonly identity: IdentityPublic }
  /** Admin: a pending request becomes a member / is dropped. */
  | { readonly type: 'approveJoin'; readonly address: Address }
  | { readonly type: 'denyJoin'; readonly address: Address };

export type GroupActionType = GroupAction['type'];

export interface GroupChange {
  readonly groupId: Uint8Array;
  readonly baseVersion: number;
  readonly baseHash: Uint8Array;
  readonly author: Address;
  readonly actions: readonly GroupAction[];
  readonly inviteProof: Uint8Array | null;
  readonly signature: Uint8Array;
}

const TYPE_CODE: Record<GroupActionType, number> = {
  addMember: 1,
  removeMember: 2,
  setRole: 3,
  leave: 4,
  setName: 5,
  setDescription: 6,
  setAvatar: 7,
  setAccess: 8,
  setInviteLink: 9,
  joinByLink: 10,
  approveJoin: 11,
  denyJoin: 12
};

function writeAction(w: ByteWriter, a: GroupAction): void {
  w.u8(TYPE_CODE[a.type]);
  switch (a.type) {
    case 'addMember':
      writeAddress(w, a.address).raw(encodeIdentityPublic(a.identity));
      writeRole(w, a.role);
      return;
    case 'removeMember':
    case 'approveJoin':
    case 'denyJoin':
      writeAddress(w, a.address);
      return;
    case 'setRole':
      writeRole(writeAddress(w, a.address), a.role);
      return;
    case 'leave':
      return;
    case 'setName':
      writeText(w, 'name', a.name, MAX_NAME_BYTES);
      return;
    case 'setDescription':
      writeText(w, 'description', a.description, MAX_DESCRIPTION_BYTES);
      return;
    case 'setAvatar':
      writeAvatar(w, a.avatar);
      return;
    case 'setAccess':
      w.u8(a.setting === 'editInfo' ? 1 : 2).u8(a.access === Access.admins ? 1 : 2);
      return;
    case 'setInviteLink':
      if (a.invite) w.u8(1).raw(encodeKey(KeyType.Ed25519, a.invite.publicKey)).u8(a.invite.approval ? 1 : 0);
      else w.u8(0);
      return;
    case 'joinByLink':
      w.raw(encodeIdentityPublic(a.identity));
      return;
  }
}

function readOneOf<T>(r: ByteReader, what: string, one: T, two: T): T {
  const c = r.u8();
  if (c === 1) return one;
  if (c === 2) return two;
  return fail('DecodeFailed', `${what} byte ${c}`);
}

function readAction(r: ByteReader): GroupAction {
  const t = r.u8();
  switch (t) {
    case 1: {
      const address = readAddress(r);
      const identity = readIdentityPublic(r);
      return { type: 'addMember', address, identity, role: readRole(r) };
    }
    case 2:
      return { type: 'removeMember', address: readAddress(r) };
    case 3: {
      const address = readAddress(r);
      return { type: 'setRole', address, role: readRole(r) };
    }
    case 4:
      return { type: 'leave' };
    case 5:
      return { type: 'setName', name: readText(r, 'name', MAX_NAME_BYTES) };
    case 6:
      return { type: 'setDescription', description: readText(r, 'description', MAX_DESCRIPTION_BYTES) };
    case 7:
      return { type: 'setAvatar', avatar: readAvatar(r) };
    case 8: {
      const setting = readOneOf(r, 'setting', 'editInfo' as const, 'addMembers' as const);
      return { type: 'setAccess', setting, access: readOneOf(r, 'access', Access.admins, Access.members) };
    }
    case 9:
      return { type: 'setInviteLink', invite: readFlag(r, 'invite') ? { publicKey: readKey(r, KeyType.Ed25519), approval: readFlag(r, 'approval') } : null };
    case 10:
      return { type: 'joinByLink', identity: readIdentityPublic(r) };
    case 11:
      return { type: 'approveJoin', address: readAddress(r) };
    case 12:
      return { type: 'denyJoin', address: readAddress(r) };
    default:
      return fail('DecodeFailed', `action type ${t}`);
  }
}

type ChangeBody = Omit<GroupChange, 'signature' | 'inviteProof'>;

/** The signed bytes of a change (everything before the proofs). */
export function encodeChangeBody(c: ChangeBody): Uint8Array {
  if (c.actions.length < 1 || c.actions.length > MAX_ACTIONS) fail('InvalidArgument', `${c.actions.length} actions, expected 1..${MAX_ACTIONS}`);
  if (!Number.isInteger(c.baseVersion) || c.baseVersion < 0 || c.baseVersion > 0xffff_fffe) fail('InvalidArgument', `base version ${c.baseVersion}`);
  const w = new ByteWriter().u8(CHANGE_FORMAT).fixed(c.groupId, GROUP_ID_LEN).u32(c.baseVersion).fixed(c.baseHash, STATE_HASH_LEN);
  writeAddress(w, c.author).u8(c.actions.length);
  for (const a of c.actions) writeAction(w, a);
  return w.finish();
}

export function encodeGroupChange(c: GroupChange): Uint8Array {
  const w = new ByteWriter().raw(encodeChangeBody(c));
  if (c.inviteProof) w.u8(1).fixed(c.inviteProof, SIGNATURE_LEN);
  else w.u8(0);
  const out = w.fixed(c.signature, SIGNATURE_LEN).finish();
  if (out.length > MAX_CHANGE_BYTES) fail('InvalidArgument', `change of ${out.length} bytes exceeds ${MAX_CHANGE_BYTES}`);
  return out;
}

export function readGroupChange(r: ByteReader): GroupChange {
  const format = r.u8();
  if (format !== CHANGE_FORMAT) fail('UnsupportedVersion', `group change format ${format}`);
  const groupId = r.fixed(GROUP_ID_LEN);
  const baseVersion = r.u32();
  if (baseVersion === 0xffff_ffff) fail('DecodeFailed', 'base version leaves no next version');
  const baseHash = r.fixed(STATE_HASH_LEN);
  const author = readAddress(r);
  const count = r.u8();
  if (count < 1 || count > MAX_ACTIONS) fail('DecodeFailed', `${count} actions, expected 1..${MAX_ACTIONS}`);
  const actions: GroupAction[] = [];
  for (let i = 0; i < count; i++) actions.push(readAction(r));
  const inviteProof = readFlag(r, 'invite proof') ? r.fixed(SIGNATURE_LEN) : null;
  const signature = r.fixed(SIGNATURE_LEN);
  return { groupId, baseVersion, baseHash, author, actions, inviteProof, signature };
}

export function decodeGroupChange(bytes: Uint8Array): GroupChange {
  if (bytes.length > MAX_CHANGE_BYTES) fail('DecodeFailed', `change of ${bytes.length} bytes exceeds ${MAX_CHANGE_BYTES}`);
  const r = new ByteReader(bytes, 'group change');
  const c = readGroupChange(r);
  r.end();
  return c;
}

function signed(label: Uint8Array, body: Uint8Array): Uint8Array {
  const m = new Uint8Array(label.length + body.length);
  m.set(label, 0);
  m.set(body, label.length);
  return m;
}

const CHANGE_SIG = labelBytes(Labels.groupChangeSig);
const INVITE_PROOF = labelBytes(Labels.groupInviteProof);
const CHANGE_DIGEST = labelBytes(Labels.groupChangeDigest);

export interface CreateChangeInput {
  /** The state the change is written against (normally the history's head). */
  base: GroupState;
  author: Address;
  authorIdentity: IdentityKeyPair;
  actions: readonly GroupAction[];
  /** Only for a join by link: the link's signing key (inviteKeys in group-secret.ts). */
  inviteSigningKey?: KeyPair;
}

/** Signs a change against `base`. Validity is not checked here: applyChange is the judge. */
export function createChange(input: CreateChangeInput): GroupChange {
  const body: ChangeBody = {
    groupId: input.base.groupId.slice(),
    baseVersion: input.base.version,
    baseHash: stateHash(input.base),
    author: input.author,
    actions: input.actions
  };
  const bytes = encodeChangeBody(body);
  const inviteProof = input.inviteSigningKey ? ed25519Sign(input.inviteSigningKey.privateKey, signed(INVITE_PROOF, bytes)) : null;
  const signature = ed25519Sign(input.authorIdentity.signing.privateKey, signed(CHANGE_SIG, bytes));
  return { ...body, inviteProof, signature };
}

export function verifyChangeSignature(c: GroupChange, authorSigningKey: Uint8Array): boolean {
  return ed25519Verify(authorSigningKey, signed(CHANGE_SIG, encodeChangeBody(c)), c.signature);
}

export function verifyInviteProof(c: GroupChange, invitePublicKey: Uint8Array): boolean {
  return c.inviteProof !== null && ed25519Verify(invitePublicKey, signed(INVITE_PROOF, encodeChangeBody(c)), c.inviteProof);
}

const ids = new WeakMap<GroupChange, string>();

/** The change's id as hex (a map key): SHA-256 over the label and the full encoding. */
export function changeId(c: GroupChange): string {
  let id = ids.get(c);
  if (id === undefined) {
    id = toHex(sha256(signed(CHANGE_DIGEST, encodeGroupChange(c))));
    ids.set(c, id);
  }
  return id;
}

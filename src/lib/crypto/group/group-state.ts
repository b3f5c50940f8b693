/**
 * The group state (P19): a signed, versioned, hash-chained description of one group — what the
 * group info screen shows and what decides who gets sender keys.
 *
 *   GroupState { groupId, version, prevHash, name, description, avatar,
 *                settings { editInfo, addMembers }, invite { publicKey, approval } | null,
 *                inviteVersion, members[], pending[] }
 *
 * Version 0 is the genesis its creator makes alone; every later version is the result of one
 * admin-signed GroupChange applied to the previous one (apply-change.ts), and carries that
 * state's hash in `prevHash`, so a state names its whole history. Members are addresses
 * (username, device) with their identity keys (for signatures and safety numbers), a role and
 * the version they joined at; lists are kept in address order so a state has one encoding
 * (group-state-codec.ts) and one hash.
 *
 * The invite link (group-secret.ts) appears here only as its public key: the secret stays in the
 * link and with the admins, so whoever can read a state (a former member holding the old master
 * key, say) still cannot join by link.
 *
 * Owns the types, read-only queries and the genesis. Knows nothing of signatures, encodings,
 * sender keys or storage. States are immutable: every function returns a new object.
 */
import type { Deps } from '../deps';
import type { IdentityPublic } from '../identity';
import { compareAddress, sameAddress, type Address } from './address';
import { MAX_DESCRIPTION_BYTES, MAX_NAME_BYTES } from './limits';
import { textBytes } from './text';

export const Role = { admin: 'admin', member: 'member' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Who may do something the settings govern: admins only, or every member. */
export const Access = { admins: 'admins', members: 'members' } as const;
export type Access = (typeof Access)[keyof typeof Access];

export const GROUP_ID_LEN = 32;
export const STATE_HASH_LEN = 32;

export interface Member {
  readonly address: Address;
  readonly identity: IdentityPublic;
  readonly role: Role;
  /** The state version that added this member (seniority in group-history.ts's fork choice). */
  readonly joinedAt: number;
}

/** Someone who asked to join by a link that needs admin approval. */
export interface JoinRequest {
  readonly address: Address;
  readonly identity: IdentityPublic;
  readonly requestedAt: number;
}

export interface GroupSettings {
  /** Who may change the name, description and avatar. */
  readonly editInfo: Access;
  /** Who may add members (only admins may ever add an admin or change roles and settings). */
  readonly addMembers: Access;
}

/** The invite link as the state knows it: the public half of the key the link's secret derives. */
export interface InviteLink {
  /** Ed25519 public key that signs join requests made with the link (group-secret.ts). */
  readonly publicKey: Uint8Array;
  /** True: joining puts the person in `pending` until an admin approves. */
  readonly approval: boolean;
}

export interface GroupState {
  /** Random, fixed for the group's life; bound into every change, blob and group message (P20). */
  readonly groupId: Uint8Array;
  readonly version: number;
  /** stateHash of version - 1 (32 zero bytes for the genesis). */
  readonly prevHash: Uint8Array;
  readonly name: string;
  readonly description: string;
  /** The group picture: JPEG bytes (limits.ts MAX_AVATAR_BYTES), opaque here; null for none. */
  readonly avatar: Uint8Array | null;
  readonly settings: GroupSettings;
  readonly invite: InviteLink | null;
  /** How many times a link was set or reset: a reset link's old joins name an older key. */
  readonly inviteVersion: number;
  /** In address order, no duplicates. */
  readonly members: readonly Member[];
  /** In address order, no duplicates, disjoint from members. */
  readonly pending: readonly JoinRequest[];
}

export function findMember(state: GroupState, a: Address): Member | undefined {
  return state.members.find((m) => sameAddress(m.address, a));
}

export function findPending(state: GroupState, a: Address): JoinRequest | undefined {
  return state.pending.find((p) => sameAddress(p.address, a));
}

export function isAdmin(state: GroupState, a: Address): boolean {
  return findMember(state, a)?.role === Role.admin;
}

/** May `a` change the name, description and avatar (a member, and an admin unless editInfo is 'members')? */
export function mayEditInfo(state: GroupState, a: Address): boolean {
  const m = findMember(state, a);
  return !!m && (m.role === Role.admin || state.settings.editInfo === Access.members);
}

export function adminCount(state: GroupState): number {
  let n = 0;
  for (const m of state.members) if (m.role === Role.admin) n++;
  return n;
}

/** Who our sender key goes to (P19: only members of the state, never us, never the host). */
export function senderKeyRecipients(state: GroupState, ourAddress: Address): Address[] {
  return state.members.filter((m) => !sameAddress(m.address, ourAddress)).map((m) => m.address);
}

/**
 * P21: must our sender key be replaced before the next send? Yes when anyone who holds it (the
 * members we distributed it to) is no longer a member of `state` — removed, left, or dropped by a
 * reorganised history (group-history.ts).
 */
export function mustRotateSenderKey(distributedTo: readonly Address[], state: GroupState): boolean {
  return distributedTo.some((a) => !findMember(state, a));
}

/** Inserts `item` into a list kept in address order (the caller has checked it is absent). */
export function insertByAddress<T extends { readonly address: Address }>(list: readonly T[], item: T): T[] {
  const out = [...list];
  let i = out.length;
  while (i > 0 && compareAddress(out[i - 1]!.address, item.address) > 0) i--;
  out.splice(i, 0, item);
  return out;
}

export interface GenesisInput {
  creator: { address: Address; identity: IdentityPublic };
  name: string;
  description?: string;
  avatar?: Uint8Array | null;
  settings?: Partial<GroupSettings>;
}

/**
 * Version 0: the creator alone, as admin, with a fresh random group id. Everyone else is added by
 * signed changes, so from version 1 on every member was put there by an admin's signature.
 * Text over its bound, or not well-formed, is InvalidArgument.
 */
export function createGenesis(input: GenesisInput, deps: Deps): GroupState {
  textBytes('name', input.name, MAX_NAME_BYTES);
  textBytes('description', input.description ?? '', MAX_DESCRIPTION_BYTES);
  return {
    groupId: deps.rng(GROUP_ID_LEN),
    version: 0,
    prevHash: new Uint8Array(STATE_HASH_LEN),
    name: input.name,
    description: input.description ?? '',
    avatar: input.avatar ?? null,
    settings: { editInfo: input.settings?.editInfo ?? Access.admins, addMembers: input.settings?.addMembers ?? Access.admins },
    invite: null,
    inviteVersion: 0,
    members: [{ address: input.creator.address, identity: input.creator.identity, role: Role.admin, joinedAt: 0 }],
    pending: []
  };
}

/**
 * The group's secrets and what they derive (DESIGN.md §4 "Groups"; §9: the host learns no group
 * name, member or count).
 *
 *   master key (32, random, per group; given to each member pairwise inside the 1:1 ratchet)
 *     HKDF-SHA256(salt = groupId, ikm = master key, info = label, 32):
 *       "Parley_GroupBlobKey"      -> AEAD key of the state blob
 *       "Parley_GroupBlobAddress"  -> where the host keeps it (unlinkable to the group id)
 *       "Parley_GroupBlobWrite"    -> token the host checks (it stores only a hash) before replacing it
 *       "Parley_GroupInviteBlobWrite" || invite blob address -> the same for the invite blob
 *
 *   invite secret (32, random per link, only in the link's URL fragment and with admins)
 *     HKDF-SHA256(salt = 0^32, ikm = invite secret, info = label, 32):
 *       "Parley_GroupInviteSigning"      -> Ed25519 seed of the link key; its public half is in
 *                                           the state, its signature on a join is the join credential
 *       "Parley_GroupInviteBlobKey"      -> AEAD key of the invite blob (the group a joiner sees)
 *       "Parley_GroupInviteBlobAddress"  -> where the host keeps it
 *
 * Why the link's secret is not derived from the master key: everyone who ever held a master key
 * (a removed member, until the key rotates: key-epochs.ts) can read a state blob sealed under
 * it, so the state only names the link's public key;
 * a removed member learns no secret that would let them rejoin, and resetting the link (a new
 * secret, a new key in the state) needs no new master key. Only someone with the master key can
 * write either blob, so a link holder cannot replace the group a joiner is shown.
 *
 * Link text: base64url(u8 version (1) || invite secret), 44 characters, carried after '#' so the
 * host serving the page never receives it. Knows nothing of states or storage.
 */
import { ByteWriter } from '../../codec/bytes';
import { fromBase64Url, toBase64Url } from '../../codec/base64url';
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { hkdf } from '../hkdf';
import { Labels, labelBytes, type Label } from '../labels';
import { sodium } from '../sodium';
import type { KeyPair } from '../primitives';
import { GROUP_ID_LEN } from './group-state';

export const MASTER_KEY_LEN = 32;
export const INVITE_SECRET_LEN = 32;
export const BLOB_ADDRESS_LEN = 32;
export const WRITE_TOKEN_LEN = 32;
export const INVITE_LINK_VERSION = 1;

export interface BlobKeys {
  /** AEAD key (never leaves members / link holders). */
  readonly key: Uint8Array;
  /** What the host indexes the blob by. */
  readonly address: Uint8Array;
}

export interface StateBlobKeys extends BlobKeys {
  /** Presented to the host to replace the blob; the host keeps SHA-256 of it. */
  readonly writeToken: Uint8Array;
}

export interface InviteKeys extends BlobKeys {
  /** Signs join requests made with the link; the public key goes in the state (setInviteLink). */
  readonly signing: KeyPair;
}

export function generateMasterKey(deps: Deps): Uint8Array {
  return deps.rng(MASTER_KEY_LEN);
}

export function generateInviteSecret(deps: Deps): Uint8Array {
  return deps.rng(INVITE_SECRET_LEN);
}

function check(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) fail('InvalidArgument', `${what}: ${b.length} bytes, expected ${n}`);
}

function fromMaster(masterKey: Uint8Array, groupId: Uint8Array, info: Uint8Array): Uint8Array {
  check('masterKey', masterKey, MASTER_KEY_LEN);
  check('groupId', groupId, GROUP_ID_LEN);
  return hkdf(groupId, masterKey, info, 32);
}

function fromInvite(secret: Uint8Array, label: Label): Uint8Array {
  check('inviteSecret', secret, INVITE_SECRET_LEN);
  return hkdf(undefined, secret, labelBytes(label), 32);
}

export function stateBlobKeys(masterKey: Uint8Array, groupId: Uint8Array): StateBlobKeys {
  return {
    key: fromMaster(masterKey, groupId, labelBytes(Labels.groupBlobKey)),
    address: fromMaster(masterKey, groupId, labelBytes(Labels.groupBlobAddress)),
    writeToken: fromMaster(masterKey, groupId, labelBytes(Labels.groupBlobWrite))
  };
}

/**
 * The write token a key handoff passes its (old) address on to (README "Master key rotation"):
 * derived from the NEW key, so once the handoff is written only members holding the new key can
 * replace it, not the former member who kept the old key and its write token. Its own label, so
 * the host cannot link the old address to the new one by a shared token.
 */
export function handoffWriteToken(newMasterKey: Uint8Array, groupId: Uint8Array): Uint8Array {
  return fromMaster(newMasterKey, groupId, labelBytes(Labels.groupHandoffWrite));
}

export function inviteKeys(inviteSecret: Uint8Array): InviteKeys {
  const seed = fromInvite(inviteSecret, Labels.groupInviteSigning);
  const kp = sodium().crypto_sign_seed_keypair(seed);
  seed.fill(0);
  return {
    signing: { publicKey: kp.publicKey, privateKey: kp.privateKey },
    key: fromInvite(inviteSecret, Labels.groupInviteBlobKey),
    address: fromInvite(inviteSecret, Labels.groupInviteBlobAddress)
  };
}

/** The invite blob's write token: needs the master key, so link holders cannot replace the blob. */
export function inviteBlobWriteToken(masterKey: Uint8Array, groupId: Uint8Array, inviteBlobAddress: Uint8Array): Uint8Array {
  check('inviteBlobAddress', inviteBlobAddress, BLOB_ADDRESS_LEN);
  return fromMaster(masterKey, groupId, new ByteWriter().raw(labelBytes(Labels.groupInviteBlobWrite)).raw(inviteBlobAddress).finish());
}

/** The text after '#' in an invite URL. */
export function encodeInviteLink(inviteSecret: Uint8Array): string {
  check('inviteSecret', inviteSecret, INVITE_SECRET_LEN);
  return toBase64Url(new ByteWriter().u8(INVITE_LINK_VERSION).raw(inviteSecret).finish());
}

/** Strict: exactly one version byte and a 32-byte secret, canonical base64url. */
export function decodeInviteLink(fragment: string): Uint8Array {
  const b = fromBase64Url(fragment, 1 + INVITE_SECRET_LEN);
  if (b.length !== 1 + INVITE_SECRET_LEN) fail('DecodeFailed', `invite link of ${b.length} bytes`);
  if (b[0] !== INVITE_LINK_VERSION) fail('UnsupportedVersion', `invite link version ${String(b[0])}`);
  return b.slice(1);
}

/**
 * The encrypted, padded group blob the host keeps (DESIGN.md §9; the breach test: no group name,
 * member list or member count in the host's files), so a member who was offline can catch up and
 * an invite link works while every admin is offline.
 *
 *   sealed = u8 format (1) || u8 kind (1 state, 2 invite, 3 invite closed, 4 key handoff) || nonce (24)
 *            || XChaCha20-Poly1305(key, nonce, padded payload,
 *                                  AD = "Parley_GroupBlobBinding" || format || kind || address)
 *   padded = payload || 0x80 || 0x00* up to a bucket: 32 KiB, then doubling to 4 MiB
 *   payload = encodeGroupHistory (anchor state and the path to the head: no lost branch, no orphan)
 *             or, for kind 3, one byte: why the link stopped (1 reset, 2 turned off)
 *             or, for kind 4, a key handoff (key-handoff.ts)
 *
 * When admins reset a link (or turn it off) they replace the old link's invite blob with a kind-3
 * blob sealed under the OLD link's key: whoever holds the old link learns only that it stopped
 * (a clear "this link was reset"), nothing of the group as it is now. The host cannot forge it
 * (no invite key) nor write it (no write token); it can only serve an older blob, whose join
 * members refuse (fork choice: a joiner's change loses to any member's, P19).
 *
 * What the size leaks: only the bucket. Every group whose history encodes under 32 KiB looks the
 * same: measured, about 180 members with 12-character usernames and a full HISTORY_DEPTH of
 * additions (fewer with the longest name and description, more with a shorter history); above
 * that the bucket tells the member count within a factor of about two. The host
 * also sees the blob's address (stable for the group's master key, so it can link one group's
 * updates over time) and when it is replaced; never the group id, which is inside.
 *
 * A state blob is read with the master key, which former members keep; so a change that takes
 * someone out moves the group to a new master key (key-epochs.ts), and the blob at the old key's
 * address becomes a key handoff (kind 4, key-handoff.ts) that only the members who stay can follow.
 * Until a member holds the new key it writes under the old one (README "Groups": known limits).
 * The blob gives no
 * authority: a member merges its changes into a history it already trusts (receiveChanges), so a
 * former member who rewrites it can withhold news but not forge it. Knows nothing of histories
 * beyond their encoding, or of the host's API.
 */
import { ByteWriter } from '../../codec/bytes';
import { fail } from '../../codec/errors';
import type { Deps } from '../deps';
import { Labels, labelBytes } from '../labels';
import { groupFail } from './errors';
import { aeadDecrypt, aeadEncrypt, AEAD_NONCE_LEN, AEAD_TAG_LEN } from '../primitives';
import { BLOB_ADDRESS_LEN, handoffWriteToken, inviteKeys, stateBlobKeys, type BlobKeys } from './group-secret';
import { decodeGroupHistoryParts, encodeGroupHistory, type HistoryParts } from './group-history-codec';
import type { GroupHistory } from './group-history';
import { decodeHandoff, encodeHandoff, type Handoff } from './key-handoff';

export const BLOB_FORMAT = 1;
export const BlobKind = { state: 1, invite: 2, inviteClosed: 3, handoff: 4 } as const;
export type BlobKind = (typeof BlobKind)[keyof typeof BlobKind];

export const MIN_BLOB_BUCKET = 32 * 1024;
export const MAX_BLOB_BUCKET = 4 * 1024 * 1024;
const HEADER_LEN = 2 + AEAD_NONCE_LEN;

/** The padded length for `n` payload bytes (one marker byte at least), or InvalidArgument beyond the largest bucket. */
export function blobBucket(n: number): number {
  let b = MIN_BLOB_BUCKET;
  while (b < n + 1) b *= 2;
  if (b > MAX_BLOB_BUCKET) fail('InvalidArgument', `blob payload of ${n} bytes exceeds ${MAX_BLOB_BUCKET - 1}`);
  return b;
}

/** What the host stores for `n` payload bytes. */
export function sealedBlobLength(n: number): number {
  return HEADER_LEN + blobBucket(n) + AEAD_TAG_LEN;
}

function binding(kind: BlobKind, address: Uint8Array): Uint8Array {
  if (address.length !== BLOB_ADDRESS_LEN) fail('InvalidArgument', `blob address of ${address.length} bytes`);
  return new ByteWriter().raw(labelBytes(Labels.groupBlobBinding)).u8(BLOB_FORMAT).u8(kind).raw(address).finish();
}

export function sealBlob(p: { keys: BlobKeys; kind: BlobKind; payload: Uint8Array }, deps: Deps): Uint8Array {
  const padded = new Uint8Array(blobBucket(p.payload.length));
  padded.set(p.payload);
  padded[p.payload.length] = 0x80;
  const nonce = deps.rng(AEAD_NONCE_LEN);
  const ct = aeadEncrypt(p.keys.key, nonce, padded, binding(p.kind, p.keys.address));
  padded.fill(0);
  return new ByteWriter().u8(BLOB_FORMAT).u8(p.kind).fixed(nonce, AEAD_NONCE_LEN).raw(ct).finish();
}

export function openBlob(p: { keys: BlobKeys; kind: BlobKind; sealed: Uint8Array }): Uint8Array {
  const s = p.sealed;
  if (s.length < HEADER_LEN + MIN_BLOB_BUCKET + AEAD_TAG_LEN) fail('DecodeFailed', `blob of ${s.length} bytes`);
  if (s[0] !== BLOB_FORMAT) fail('UnsupportedVersion', `blob format ${String(s[0])}`);
  if (s[1] !== p.kind) fail('DecodeFailed', `blob kind ${String(s[1])}, expected ${p.kind}`);
  const padded = aeadDecrypt(p.keys.key, s.subarray(2, HEADER_LEN), s.subarray(HEADER_LEN), binding(p.kind, p.keys.address));
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80) fail('InvalidMessage', 'blob padding has no marker');
  // Canonical: the bucket must be the one this payload length seals to.
  if (blobBucket(i) !== padded.length) fail('InvalidMessage', `blob of ${i} bytes padded to ${padded.length}`);
  return padded.slice(0, i);
}

/** A member seals the group's history for the state blob (orphans are not shared). */
export function sealStateBlob(history: GroupHistory, masterKey: Uint8Array, deps: Deps): { address: Uint8Array; writeToken: Uint8Array; sealed: Uint8Array } {
  const keys = stateBlobKeys(masterKey, history.anchor.groupId);
  const sealed = sealBlob({ keys, kind: BlobKind.state, payload: encodeGroupHistory(history, { branches: false }) }, deps);
  return { address: keys.address, writeToken: keys.writeToken, sealed };
}

/** The anchor and changes inside a state blob, to merge with receiveChanges into a history we trust. */
export function openStateBlob(sealed: Uint8Array, masterKey: Uint8Array, groupId: Uint8Array): HistoryParts {
  return decodeGroupHistoryParts(openBlob({ keys: stateBlobKeys(masterKey, groupId), kind: BlobKind.state, sealed }));
}

/**
 * The key handoff (key-handoff.ts), sealed under the OLD master key at its address in place of the
 * state blob there: what a member still on that key opens next.
 */
/**
 * The handoff at the old key's address, written with the old key's write token; `nextToken` (from
 * the new key, `handoffWriteToken`) is what the host must demand for that address from then on.
 */
export function sealHandoffBlob(
  handoff: Handoff,
  oldMasterKey: Uint8Array,
  newMasterKey: Uint8Array,
  groupId: Uint8Array,
  deps: Deps
): { address: Uint8Array; writeToken: Uint8Array; nextToken: Uint8Array; sealed: Uint8Array } {
  const keys = stateBlobKeys(oldMasterKey, groupId);
  return { address: keys.address, writeToken: keys.writeToken, nextToken: handoffWriteToken(newMasterKey, groupId), sealed: sealBlob({ keys, kind: BlobKind.handoff, payload: encodeHandoff(handoff) }, deps) };
}

/** What the blob at a master key's address holds: the state, or a handoff to the next key. */
export function openGroupBlob(sealed: Uint8Array, masterKey: Uint8Array, groupId: Uint8Array): { state: HistoryParts } | { handoff: Handoff } {
  const keys = stateBlobKeys(masterKey, groupId);
  if (sealed[1] === BlobKind.handoff) return { handoff: decodeHandoff(openBlob({ keys, kind: BlobKind.handoff, sealed })) };
  return { state: decodeGroupHistoryParts(openBlob({ keys, kind: BlobKind.state, sealed })) };
}

/** An admin seals what a link holder sees (the whole history: a joiner needs the members to reach them). */
export function sealInviteBlob(history: GroupHistory, inviteSecret: Uint8Array, deps: Deps): { address: Uint8Array; sealed: Uint8Array } {
  const keys = inviteKeys(inviteSecret);
  return { address: keys.address, sealed: sealBlob({ keys, kind: BlobKind.invite, payload: encodeGroupHistory(history, { branches: false }) }, deps) };
}

export const InviteClosed = { reset: 1, off: 2 } as const;
export type InviteClosed = (typeof InviteClosed)[keyof typeof InviteClosed];

/** An admin seals, at the old link's address, the notice that the link stopped working. */
export function sealInviteClosed(inviteSecret: Uint8Array, why: InviteClosed, deps: Deps): { address: Uint8Array; sealed: Uint8Array } {
  const keys = inviteKeys(inviteSecret);
  return { address: keys.address, sealed: sealBlob({ keys, kind: BlobKind.inviteClosed, payload: new Uint8Array([why]) }, deps) };
}

/**
 * What a link holder sees. A closed link's notice (kind 3, authenticated under the link's key) is
 * a GroupError InviteLinkReset; bytes that do not open are a ProtocolError as for any blob.
 */
export function openInviteBlob(sealed: Uint8Array, inviteSecret: Uint8Array): HistoryParts {
  const keys = inviteKeys(inviteSecret);
  if (sealed[1] === BlobKind.inviteClosed) {
    const why = openBlob({ keys, kind: BlobKind.inviteClosed, sealed });
    groupFail('InviteLinkReset', why[0] === InviteClosed.off ? 'the invite link was turned off' : 'the invite link was reset');
  }
  return decodeGroupHistoryParts(openBlob({ keys, kind: BlobKind.invite, sealed }));
}

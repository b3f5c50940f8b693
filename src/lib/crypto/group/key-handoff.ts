/**
 * The key handoff (README "Groups": master key rotation; key-epochs.ts): when a change X takes
 * someone out, its rotator replaces the blob at the OLD key's address with a handoff, sealed under
 * the old key, so that a member the host kept X and its new key from (P19: a withheld pairwise
 * update) can still catch up from the blob it knows, as it could before keys rotated:
 *
 *   payload = u8 version (1) || X id (32) || u32 length || history up to and including X
 *             || Enc(E) || u16 n || n x (address || C_i) || signature (64)
 *   C_i     = HKDF(0^32, DH(e, R_i), "Parley_GroupHandoffMask" || X || Enc(E) || Enc(R_i), 32) XOR K
 *   signed  = "Parley_GroupHandoffSig" || group id || X || Enc(E) || n x (address || C_i)     by the rotator's IKs
 *
 * R_i is member i's identity DH key (IKd) in the state after X; K the new master key. Everyone who
 * held the old key (the member taken out too) can open the handoff and see the history up to X,
 * which it was sent anyway (it learns of its own removal). Only the members after X find an entry.
 * The rotator's signature stops whoever holds the old key (the former member) from writing a
 * handoff with a key of its own choosing: the reader checks it against the rotator of X in the
 * history it has merged (never against anything in the blob alone). Pure: no storage.
 */
import { ByteReader, ByteWriter, fromHex, toHex } from '../../codec/bytes';
import { fail } from '../../codec/errors';
import { KeyType, encodeKey } from '../../codec/keys';
import type { Deps } from '../deps';
import { hkdf } from '../hkdf';
import type { IdentityKeyPair } from '../identity';
import { Labels, labelBytes } from '../labels';
import { ed25519Sign, ed25519Verify, x25519, x25519KeyPair } from '../primitives';
import { readAddress, sameAddress, writeAddress, type Address } from './address';
import { findMember, type GroupState } from './group-state';
import type { GroupHistory } from './group-history';
import { rotatorOf } from './key-epochs';
import { MASTER_KEY_LEN } from './group-secret';

export const HANDOFF_VERSION = 1;
const ID_LEN = 32;
const SIG_LEN = 64;
const ZERO_SALT = new Uint8Array(32);
/** The history up to X fits a blob's largest bucket with room for 1000 entries. */
const MAX_HANDOFF_HISTORY = 3 * 1024 * 1024;

export interface Handoff {
  /** Id (hex) of the change the new key is bound to. */
  change: string;
  /** encodeGroupHistory of the history up to and including that change (merged by the reader). */
  history: Uint8Array;
  ephemeral: Uint8Array;
  entries: { address: Address; masked: Uint8Array }[];
  signature: Uint8Array;
}

function mask(shared: Uint8Array, change: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  const info = new ByteWriter().raw(labelBytes(Labels.groupHandoffMask)).raw(change).raw(encodeKey(KeyType.X25519, ephemeral)).raw(encodeKey(KeyType.X25519, recipient)).finish();
  return hkdf(ZERO_SALT, shared, info, MASTER_KEY_LEN);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ b[i]!);
}

function signedPart(groupId: Uint8Array, h: Omit<Handoff, 'signature' | 'history'>): Uint8Array {
  const w = new ByteWriter().raw(labelBytes(Labels.groupHandoffSig)).fixed(groupId, ID_LEN).fixed(hexBytes(h.change), ID_LEN).raw(encodeKey(KeyType.X25519, h.ephemeral));
  for (const e of h.entries) writeAddress(w, e.address).fixed(e.masked, MASTER_KEY_LEN);
  return w.finish();
}

function hexBytes(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) fail('InvalidArgument', 'change id is not 64 hex digits');
  return fromHex(hex);
}

/** The rotator makes the handoff of `key` for change `change` to the members of `after` (the state after it) but itself. */
export function makeHandoff(
  p: { groupId: Uint8Array; change: string; history: Uint8Array; after: GroupState; key: Uint8Array; rotator: { address: Address; identity: IdentityKeyPair } },
  deps: Deps
): Handoff {
  const e = x25519KeyPair(deps);
  const id = hexBytes(p.change);
  const entries = p.after.members
    .filter((m) => !sameAddress(m.address, p.rotator.address))
    .map((m) => ({ address: m.address, masked: xor(mask(x25519(e.privateKey, m.identity.dhKey), id, e.publicKey, m.identity.dhKey), p.key) }));
  e.privateKey.fill(0);
  const unsigned = { change: p.change, ephemeral: e.publicKey, entries };
  return { ...unsigned, history: p.history, signature: ed25519Sign(p.rotator.identity.signing.privateKey, signedPart(p.groupId, unsigned)) };
}

export function encodeHandoff(h: Handoff): Uint8Array {
  const w = new ByteWriter().u8(HANDOFF_VERSION).fixed(hexBytes(h.change), ID_LEN).bytes32(h.history).fixed(h.ephemeral, 32).u16(h.entries.length);
  for (const e of h.entries) writeAddress(w, e.address).fixed(e.masked, MASTER_KEY_LEN);
  return w.fixed(h.signature, SIG_LEN).finish();
}

export function decodeHandoff(bytes: Uint8Array): Handoff {
  const r = new ByteReader(bytes, 'key handoff');
  const version = r.u8();
  if (version !== HANDOFF_VERSION) fail('UnsupportedVersion', `key handoff version ${version}`);
  const change = toHex(r.fixed(ID_LEN));
  const history = r.bytes32(MAX_HANDOFF_HISTORY).slice();
  const ephemeral = r.fixed(32).slice();
  const n = r.u16();
  const entries: Handoff['entries'] = [];
  for (let i = 0; i < n; i++) entries.push({ address: readAddress(r), masked: r.fixed(MASTER_KEY_LEN).slice() });
  const signature = r.fixed(SIG_LEN).slice();
  r.end();
  return { change, history, ephemeral, entries, signature };
}

/**
 * Our key from a handoff whose history the reader has merged as `h`: its change must be on the
 * path to the head, we a member of the state after it, and the handoff signed by the change's
 * rotator there (never by a key the blob itself names). Undefined if it holds no entry for us;
 * InvalidSignature if the rotator did not sign it.
 */
export function handedKey(h: GroupHistory, handoff: Handoff, p: { groupId: Uint8Array; us: Address; identity: IdentityKeyPair }): Uint8Array | undefined {
  const edge = h.edges.get(handoff.change);
  const rotator = rotatorOf(h, handoff.change);
  const after = edge && h.nodes.get(edge.child);
  const signer = rotator && after && findMember(after, rotator)?.identity.signingKey;
  if (!signer || !h.canonical.includes(handoff.change) || !findMember(after, p.us)) return undefined;
  return openHandoff(handoff, { ...p, rotatorSigningKey: signer });
}

/**
 * Our new master key from a handoff, or undefined if it holds no entry for us. `rotatorSigningKey`
 * is the IKs of the rotator of `h.change` in the history the reader merged; a signature that does
 * not verify under it is InvalidSignature.
 */
export function openHandoff(h: Handoff, p: { groupId: Uint8Array; us: Address; identity: IdentityKeyPair; rotatorSigningKey: Uint8Array }): Uint8Array | undefined {
  if (!ed25519Verify(p.rotatorSigningKey, signedPart(p.groupId, h), h.signature)) fail('InvalidSignature', 'the key handoff is not signed by the rotator of its change');
  const entry = h.entries.find((e) => sameAddress(e.address, p.us));
  if (!entry) return undefined;
  const ours = p.identity.dh;
  return xor(mask(x25519(ours.privateKey, h.ephemeral), hexBytes(h.change), h.ephemeral, ours.publicKey), entry.masked);
}

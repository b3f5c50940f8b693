/**
 * Strict, versioned storage encodings of sender-key states (worker-local, never on the wire).
 *
 *   ours   = u8 format (1) || u8 kind 1 || groupId (32) || address || distributionId (16)
 *            || u32 iteration || chain key (32) || Ed25519 secret key (64: seed || public)
 *   theirs = u8 format (1) || u8 kind 2 || groupId (32) || address || distributionId (16)
 *            || u32 iteration || chain key (32) || typed Ed25519 public key (33)
 *            || u16 count (<= 2000) x (u32 iteration || message key (32) || u64 createdAt)
 *
 * Skipped keys are stored in increasing iteration, each below the chain's next iteration; the
 * decoder checks this, the caps and the kinds, so decode(encode(s)) re-encodes to the same
 * bytes. Knows the states' shape only; no key derivation happens here.
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter, toHex } from '../../codec/bytes';
import { KeyType, encodeKey, readKey } from '../../codec/keys';
import { ED25519_SECRET_LEN } from '../primitives';
import { MAX_MESSAGE_NUMBER, MAX_SKIPPED_KEYS } from '../ratchet/limits';
import { NO_SKIPPED_KEYS, SkippedKeysDraft, skippedEntries } from '../ratchet/skipped-keys';
import { readAddress, writeAddress } from './address';
import { GROUP_ID_LEN } from './group-state';
import type { OurSenderKey, TheirSenderKey } from './sender-key';
import { CHAIN_KEY_LEN, DISTRIBUTION_ID_LEN } from './sender-key-message';

export const SENDER_KEY_STATE_FORMAT = 1;
const KIND_OURS = 1;
const KIND_THEIRS = 2;
const MESSAGE_KEY_LEN = 32;

function readPrefix(r: ByteReader, kind: number) {
  const format = r.u8();
  if (format !== SENDER_KEY_STATE_FORMAT) fail('UnsupportedVersion', `sender key state format ${format}`);
  const k = r.u8();
  if (k !== kind) fail('DecodeFailed', `sender key state kind ${k}, expected ${kind}`);
  const groupId = r.fixed(GROUP_ID_LEN);
  const address = readAddress(r);
  const distributionId = r.fixed(DISTRIBUTION_ID_LEN);
  const iteration = r.u32();
  if (iteration > MAX_MESSAGE_NUMBER + 1) fail('DecodeFailed', `iteration ${iteration} out of range`);
  const chainKey = r.fixed(CHAIN_KEY_LEN);
  return { groupId, address, distributionId, iteration, chainKey };
}

export function encodeOurSenderKey(s: OurSenderKey): Uint8Array {
  const w = new ByteWriter().u8(SENDER_KEY_STATE_FORMAT).u8(KIND_OURS).fixed(s.groupId, GROUP_ID_LEN);
  writeAddress(w, s.ourAddress).fixed(s.distributionId, DISTRIBUTION_ID_LEN).u32(s.iteration).fixed(s.chainKey, CHAIN_KEY_LEN);
  return w.fixed(s.signing.privateKey, ED25519_SECRET_LEN).finish();
}

export function decodeOurSenderKey(bytes: Uint8Array): OurSenderKey {
  const r = new ByteReader(bytes, 'our sender key');
  const p = readPrefix(r, KIND_OURS);
  const privateKey = r.fixed(ED25519_SECRET_LEN);
  r.end();
  // libsodium's Ed25519 secret key is seed || public key.
  return { groupId: p.groupId, ourAddress: p.address, distributionId: p.distributionId, iteration: p.iteration, chainKey: p.chainKey, signing: { privateKey, publicKey: privateKey.slice(32) } };
}

export function encodeTheirSenderKey(s: TheirSenderKey): Uint8Array {
  if (s.skipped.size > MAX_SKIPPED_KEYS) fail('InvalidArgument', `${s.skipped.size} skipped keys exceed ${MAX_SKIPPED_KEYS}`);
  const w = new ByteWriter().u8(SENDER_KEY_STATE_FORMAT).u8(KIND_THEIRS).fixed(s.groupId, GROUP_ID_LEN);
  writeAddress(w, s.theirAddress).fixed(s.distributionId, DISTRIBUTION_ID_LEN).u32(s.iteration).fixed(s.chainKey, CHAIN_KEY_LEN);
  w.raw(encodeKey(KeyType.Ed25519, s.signingKey)).u16(s.skipped.size);
  const keys = [...skippedEntries(s.skipped)].sort((a, b) => a.n - b.n);
  for (const k of keys) w.u32(k.n).fixed(k.messageKey, MESSAGE_KEY_LEN).u64(k.createdAt);
  return w.finish();
}

export function decodeTheirSenderKey(bytes: Uint8Array): TheirSenderKey {
  const r = new ByteReader(bytes, 'their sender key');
  const p = readPrefix(r, KIND_THEIRS);
  const signingKey = readKey(r, KeyType.Ed25519);
  const count = r.u16();
  if (count > MAX_SKIPPED_KEYS) fail('DecodeFailed', `${count} skipped keys exceed ${MAX_SKIPPED_KEYS}`);
  const hex = toHex(p.distributionId);
  const skipped = new SkippedKeysDraft(NO_SKIPPED_KEYS, 0);
  let last = -1;
  for (let i = 0; i < count; i++) {
    const n = r.u32();
    if (n <= last || n >= p.iteration) fail('DecodeFailed', `skipped key ${n} out of order or at/after iteration ${p.iteration}`);
    last = n;
    skipped.add(p.distributionId, hex, n, r.fixed(MESSAGE_KEY_LEN), r.u64());
  }
  r.end();
  return { groupId: p.groupId, theirAddress: p.address, distributionId: p.distributionId, iteration: p.iteration, chainKey: p.chainKey, signingKey, skipped: skipped.finish() };
}

/**
 * Group content (README "Groups"; SECURITY.md P19, P21): the two things a group needs on the wire
 * beyond the pure core's own formats (crypto/group/*).
 *
 * 1. `GroupUpdate`, carried INSIDE the 1:1 ratchet as content kind 0x09 (content.ts): whatever a
 *    member must hand another member pairwise, never through the host in the clear.
 *
 *      version u8 (1) || groupId (32) || flags u8
 *      || [flag 0x01] master key (32)                     welcome: the group's secret
 *      || [flag 0x02] u32-length encoded GroupHistory     welcome: the history to anchor on
 *      || [flag 0x04] u32-length encoded GroupChange      one signed change (P19)
 *      || [flag 0x08] u16-length SenderKeyDistribution    our sender key (P21: after a rotation)
 *      [flag 0x10, no bytes]                              key request: the sender lost our sender
 *                                                         key (a PIN restore) and asks for it with
 *                                                         our next group message
 *      || [flag 0x20] seal key (32)                       with 0x08 only: sealed sender v3's key
 *                                                         for this pair (crypto/sealed-sender-v3.ts)
 *      || [flag 0x40] u16-length extensions               fields a later build may add:
 *                                                         n x (type u8 || u16-length value)
 *
 *    At least one flag; unknown flag bits are UnsupportedVersion. Extensions are how a later build
 *    adds an optional field without this one refusing the whole update (which would lose a sender
 *    key riding in it, as builds before v3 did with 0x20; protobuf's unknown fields, as Signal's
 *    messages use, give the same). This build knows no extension type: one with the high bit set
 *    (0x80..0xff, "critical": must be understood) is UnsupportedVersion, any other is skipped.
 *
 * 2. `GroupText`, the plaintext a sender key encrypts (crypto/group/sender-key.ts): the sender's
 *    head version and hash, so a receiver learns it is behind (a withheld change, P19) and syncs
 *    before it sends again, then an ordinary content: a text (content.ts kind 0x01), or a file or
 *    voice note (kind 0x10, wire/attachment-content.ts: the pointer to a blob uploaded once for
 *    the whole group, README "Groups": files in groups; P45). Receivers that only knew texts
 *    answered UnsupportedVersion for 0x10; no version change was needed.
 *
 *      version u8 (1) || head version u32 || head hash (32) || u32-length content
 *
 *    With mentions (README "Groups": mentions) the version is 2 and the usernames the text
 *    mentions follow, structurally, never parsed out of the text (the receiver keeps only members):
 *
 *      version u8 (2) || head version u32 || head hash (32) || u32-length content
 *      || u8 count (1..MAX_MENTIONS) || count x username (u8 length || ASCII)
 *
 *    Message actions in groups (README "Groups": message actions; P47): the content may also be a
 *    reply (content kind 0x0D), a reaction (0x0A), an edit (0x0B) or a delete for everyone
 *    (0x0C), exactly the 1:1 kinds. A reply or a reaction may name ANY member's message, so it
 *    names the target's author too: version 3 appends it after the mentions (count may be 0):
 *
 *      version u8 (3) || head version u32 || head hash (32) || u32-length content
 *      || u8 count (0..MAX_MENTIONS) || count x username || target author username
 *
 *    The pair (author, content id) names the target inside THIS group only (the receiver looks
 *    it up under the group whose sender key opened the message). An edit or a delete never needs
 *    an author: its target is always the authenticated sender's own message.
 *
 * Knows nothing of sessions, storage or who sent it.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { readUsername, writeUsername, type Username } from '../codec/username';

export const GROUP_CONTENT_VERSION = 1;
export const GROUP_ID_BYTES = 32;
export const MASTER_KEY_BYTES = 32;
export const HEAD_HASH_BYTES = 32;
/** A history with 1000 members and 32 changes stays far below this (the ratchet caps at 256 KiB). */
export const MAX_HISTORY_BYTES = 240 * 1024;
export const MAX_CHANGE_BYTES = 64 * 1024;
export const MAX_DISTRIBUTION_BYTES = 1024;
export const MAX_GROUP_TEXT_BYTES = 80 * 1024;
/** Most people one group text may mention. */
export const MAX_MENTIONS = 32;
const GROUP_TEXT_WITH_MENTIONS = 2;
const GROUP_TEXT_WITH_TARGET = 3;

const Flag = { masterKey: 0x01, history: 0x02, change: 0x04, distribution: 0x08, keyRequest: 0x10, sealKey: 0x20, extensions: 0x40 } as const;
const ALL_FLAGS = 0x7f;
/** The most extension bytes one update may carry. */
export const MAX_EXTENSION_BYTES = 4096;
/** Extension types from here up must be understood: one this build does not know refuses the update. */
const CRITICAL_EXTENSION = 0x80;
/** Sealed sender v3's per-pair seal key (crypto/sealed-sender-v3.ts), given with a distribution only. */
const SEAL_KEY_BYTES = 32;

export interface GroupUpdate {
  groupId: Uint8Array;
  masterKey?: Uint8Array;
  history?: Uint8Array;
  change?: Uint8Array;
  distribution?: Uint8Array;
  /** With `distribution`: the seal key our v3 sealed uploads to this recipient use until we rotate. */
  sealKey?: Uint8Array;
  keyRequest?: true;
}

export function encodeGroupUpdate(u: GroupUpdate): Uint8Array {
  const flags = (u.masterKey ? Flag.masterKey : 0) | (u.history ? Flag.history : 0) | (u.change ? Flag.change : 0) | (u.distribution ? Flag.distribution : 0) | (u.keyRequest ? Flag.keyRequest : 0) | (u.sealKey ? Flag.sealKey : 0);
  if (flags === 0) fail('InvalidArgument', 'a group update carries nothing');
  if (u.sealKey && !u.distribution) fail('InvalidArgument', 'a seal key travels only with a distribution');
  const w = new ByteWriter().u8(GROUP_CONTENT_VERSION).fixed(u.groupId, GROUP_ID_BYTES).u8(flags);
  if (u.masterKey) w.fixed(u.masterKey, MASTER_KEY_BYTES);
  if (u.history) {
    if (u.history.length > MAX_HISTORY_BYTES) fail('InvalidArgument', `history of ${u.history.length} bytes exceeds ${MAX_HISTORY_BYTES}`);
    w.bytes32(u.history);
  }
  if (u.change) {
    if (u.change.length > MAX_CHANGE_BYTES) fail('InvalidArgument', `change of ${u.change.length} bytes exceeds ${MAX_CHANGE_BYTES}`);
    w.bytes32(u.change);
  }
  if (u.distribution) {
    if (u.distribution.length > MAX_DISTRIBUTION_BYTES) fail('InvalidArgument', `distribution of ${u.distribution.length} bytes`);
    w.bytes16(u.distribution);
  }
  if (u.sealKey) w.fixed(u.sealKey, SEAL_KEY_BYTES);
  return w.finish();
}

export function decodeGroupUpdate(bytes: Uint8Array): GroupUpdate {
  const r = new ByteReader(bytes, 'group update');
  const version = r.u8();
  if (version !== GROUP_CONTENT_VERSION) fail('UnsupportedVersion', `group update version ${version}`);
  const groupId = r.fixed(GROUP_ID_BYTES).slice();
  const flags = r.u8();
  if ((flags & ~ALL_FLAGS) !== 0) fail('UnsupportedVersion', `group update flags 0x${flags.toString(16)}`);
  if (flags === 0) fail('DecodeFailed', 'a group update carries nothing');
  const u: GroupUpdate = { groupId };
  if (flags & Flag.masterKey) u.masterKey = r.fixed(MASTER_KEY_BYTES).slice();
  if (flags & Flag.history) u.history = r.bytes32(MAX_HISTORY_BYTES).slice();
  if (flags & Flag.change) u.change = r.bytes32(MAX_CHANGE_BYTES).slice();
  if (flags & Flag.distribution) u.distribution = r.bytes16(MAX_DISTRIBUTION_BYTES).slice();
  if (flags & Flag.keyRequest) u.keyRequest = true;
  if (flags & Flag.sealKey) {
    if (!u.distribution) fail('DecodeFailed', 'a seal key without a distribution');
    u.sealKey = r.fixed(SEAL_KEY_BYTES).slice();
  }
  if (flags & Flag.extensions) skipExtensions(new ByteReader(r.bytes16(MAX_EXTENSION_BYTES), 'group update extensions'));
  r.end();
  return u;
}

/** Reads past every extension (this build knows none), refusing a critical one and any malformed. */
function skipExtensions(r: ByteReader): void {
  while (r.remaining > 0) {
    const type = r.u8();
    if (type >= CRITICAL_EXTENSION) fail('UnsupportedVersion', `group update extension 0x${type.toString(16)} must be understood`);
    r.bytes16();
  }
}

export interface GroupText {
  headVersion: number;
  headHash: Uint8Array;
  /** An encoded content (content.ts): a text, or an attachment (kind 0x10). */
  content: Uint8Array;
  /** Who the text mentions (version 2); absent or empty for none. */
  mentions?: Username[];
  /** The author of the message a reply or reaction names (version 3). */
  targetAuthor?: Username;
}

export function encodeGroupText(t: GroupText): Uint8Array {
  if (!Number.isInteger(t.headVersion) || t.headVersion < 0 || t.headVersion > 0xffff_ffff) fail('InvalidArgument', `head version ${t.headVersion}`);
  if (t.content.length > MAX_GROUP_TEXT_BYTES) fail('InvalidArgument', `group content of ${t.content.length} bytes`);
  const mentions = t.mentions ?? [];
  if (mentions.length > MAX_MENTIONS) fail('InvalidArgument', `${mentions.length} mentions exceed ${MAX_MENTIONS}`);
  const version = t.targetAuthor !== undefined ? GROUP_TEXT_WITH_TARGET : mentions.length > 0 ? GROUP_TEXT_WITH_MENTIONS : GROUP_CONTENT_VERSION;
  const w = new ByteWriter().u8(version).u32(t.headVersion).fixed(t.headHash, HEAD_HASH_BYTES).bytes32(t.content);
  if (version === GROUP_TEXT_WITH_TARGET) {
    w.u8(mentions.length);
    for (const m of mentions) writeUsername(w, m);
    writeUsername(w, t.targetAuthor!);
  } else if (mentions.length > 0) {
    w.u8(mentions.length);
    for (const m of mentions) writeUsername(w, m);
  }
  return w.finish();
}

export function decodeGroupText(bytes: Uint8Array): GroupText {
  const r = new ByteReader(bytes, 'group text');
  const version = r.u8();
  if (version !== GROUP_CONTENT_VERSION && version !== GROUP_TEXT_WITH_MENTIONS && version !== GROUP_TEXT_WITH_TARGET) fail('UnsupportedVersion', `group text version ${version}`);
  const headVersion = r.u32();
  const headHash = r.fixed(HEAD_HASH_BYTES).slice();
  const content = r.bytes32(MAX_GROUP_TEXT_BYTES).slice();
  if (version === GROUP_CONTENT_VERSION) {
    r.end();
    return { headVersion, headHash, content };
  }
  const count = r.u8();
  const least = version === GROUP_TEXT_WITH_TARGET ? 0 : 1;
  if (count < least || count > MAX_MENTIONS) fail('DecodeFailed', `group text with ${count} mentions`);
  const mentions: Username[] = [];
  for (let i = 0; i < count; i++) mentions.push(readUsername(r));
  const targetAuthor = version === GROUP_TEXT_WITH_TARGET ? readUsername(r) : undefined;
  r.end();
  return { headVersion, headHash, content, ...(count > 0 ? { mentions } : {}), ...(targetAuthor !== undefined ? { targetAuthor } : {}) };
}

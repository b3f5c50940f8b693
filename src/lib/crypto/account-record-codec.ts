/**
 * The account record's plaintext (DESIGN.md §7, SECURITY.md P26): what a PIN restore brings back,
 * in one canonical, strictly decoded encoding. Sealing and padding are account-record.ts's.
 *
 * Version 6 (written):
 *   version u8 (6) || identity key pair (161) || our profile key (32)
 *   || display name bytes16 (<= 256) || about bytes16 (<= 512)               P43
 *   || u16 n settings: (key bytes16, value bytes16)*, sorted by key
 *   || u32 n contacts: username bytes16 || identity public || flags u8
 *        [0x02] verifiedAt u64   [0x04] their profile key (32)               P43
 *        flags: 0x01 verified, 0x02 verifiedAt, 0x04 their key, 0x08 message request (P42),
 *               0x10 they hold our current profile key, 0x20 pinned, 0x40 muted, 0x80 archived
 *   || u32 n blocked: username bytes16, sorted
 *   || u16 n groups: group id (32) || master key (32) || head version u32 || head hash (32)
 *        || flags u8 || [0x01] the invite link's secret (32)                        P19
 *                      || [0x02] who added us, a group request not accepted yet: username bytes16   P42
 *                      || [0x20] the key the link's blob write token derives from (32), when it is
 *                            not the master key (README "Groups": master key rotation; only with 0x01)
 *           0x04 pinned, 0x08 muted, 0x10 archived (the group's filing, README "Chat list")
 *        sorted by id; the master key is the one the state blob is sealed under now
 *
 * Version 5 (still decoded, never written): version 6 whose group flags byte may not hold 0x20.
 * Version 4 (still decoded, never written): version 5 whose group flags byte may only hold 0x01
 * and 0x02: its groups come back unfiled, as they were on the browser that wrote it.
 * Version 3 (still decoded, never written): version 4 whose group flags byte may only be 0 or 1
 * (the invite secret): a group in it is accepted, as it was on the browser that wrote it.
 * Version 2 (still decoded, never written): version 3 without the invite byte and secret.
 * Version 1 (still decoded, never written): identity pair, profile key, display name, settings,
 * contacts as (username, identity, verified u8, [u8 1 || verifiedAt u64 | u8 0]), blocked, and a
 * u16 0 where groups were reserved.
 *
 * A group's head hash is what the restore trusts: the history fetched from the host's blob must
 * pass through that very state (stateHash chains every state to its parent), so a blob rewritten
 * by a former member or the host cannot give the restored member another group (P19).
 * Decoding refuses anything not canonical (order, duplicates, unknown flags, bounds, UTF-8);
 * inputs are never mutated. Pure: no storage, PINs or network.
 */
import { fail, isProtocolError } from '../codec/errors';
import { ByteReader, ByteWriter, toHex } from '../codec/bytes';
import { asUsername, type Username } from '../codec/username';
import { decodeIdentityKeyPair, encodeIdentityKeyPair, encodeIdentityPublic, readIdentityPublic, verifyIdentity, type IdentityKeyPair, type IdentityPublic } from './identity';

export const ACCOUNT_RECORD_VERSION = 6;
/** Versions a restore still opens (a record written by an older app). */
export const READABLE_RECORD_VERSIONS = [1, 2, 3, 4, 5, 6] as const;
export const PROFILE_KEY_LEN = 32;
export const GROUP_KEY_LEN = 32;
export const INVITE_SECRET_LEN = 32;
const IDENTITY_KEY_PAIR_LEN = 1 + 64 + 32 + 64;
/** Bounds (each with room to grow): a record far beyond them is an attack or a bug. */
export const LIMITS = { displayName: 256, about: 512, settings: 64, settingKey: 64, settingValue: 1024, contacts: 10_000, blocked: 10_000, groups: 2_000 } as const;

export interface Contact {
  username: Username;
  identity: IdentityPublic;
  verified: boolean;
  /** When the user last verified this contact's safety number (ms since epoch), if ever. */
  verifiedAt: number | null;
  /** Their profile key as they shared it (P43): names and avatars come back from their blob. */
  profileKey?: Uint8Array;
  /** P42: they wrote first and the user neither wrote back nor accepted. */
  request?: true;
  /** They hold our profile key in use (so a restore does not share it again). */
  holdsOurKey?: true;
  pinned?: true;
  muted?: true;
  archived?: true;
}

/** A group we are a member of (P19): enough to fetch, check and rejoin its state. */
export interface GroupEntry {
  id: Uint8Array;
  masterKey: Uint8Array;
  headVersion: number;
  headHash: Uint8Array;
  /**
   * The group's invite link secret, when we made the link as an admin (group-invite.ts): a
   * restore keeps the link working and shows it again, if the group still has that very link.
   */
  inviteSecret?: Uint8Array;
  /** P42: a group request: who added us, not accepted yet (absent: accepted, as in versions <= 3). */
  requestFrom?: Username;
  /** How the user filed the group (version 5), as a contact's chat flags. */
  pinned?: true;
  muted?: true;
  archived?: true;
  /**
   * Version 6, only with `inviteSecret`: the master key the link's blob write token derives from,
   * when the group's key rotated since the link was made (the host holds that token's hash).
   */
  linkKey?: Uint8Array;
}

export interface AccountRecord {
  identity: IdentityKeyPair;
  profile: { displayName: string; about?: string };
  profileKey: Uint8Array;
  /** Settings of the app's features, serialised by their owners (account-settings.ts). */
  settings: Readonly<Record<string, string>>;
  contacts: readonly Contact[];
  blocked: readonly Username[];
  groups: readonly GroupEntry[];
}

/** The group flags byte (version 6; 5 allows all but `linkKey`, 4 only `invite` and `request`, 3 only `invite`). */
const GroupFlag = { invite: 0x01, request: 0x02, pinned: 0x04, muted: 0x08, archived: 0x10, linkKey: 0x20 } as const;

function groupFlags(g: GroupEntry): number {
  let f = 0;
  if (g.inviteSecret) f |= GroupFlag.invite;
  if (g.requestFrom) f |= GroupFlag.request;
  if (g.pinned) f |= GroupFlag.pinned;
  if (g.muted) f |= GroupFlag.muted;
  if (g.archived) f |= GroupFlag.archived;
  if (g.linkKey) f |= GroupFlag.linkKey;
  return f;
}
const Flag = { verified: 0x01, verifiedAt: 0x02, profileKey: 0x04, request: 0x08, holdsOurKey: 0x10, pinned: 0x20, muted: 0x40, archived: 0x80 } as const;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readString(r: ByteReader, max: number, what: string): string {
  const b = r.bytes16(max);
  try {
    return strict.decode(b);
  } catch {
    fail('DecodeFailed', `account record: ${what} is not valid UTF-8`);
  }
}

/** Entries must be strictly increasing: one canonical encoding, no duplicates. */
function checkSorted(keys: readonly string[], what: string, code: 'InvalidArgument' | 'DecodeFailed'): void {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) fail(code, `account record: ${what} not sorted or duplicated at ${i}`);
}

const byUsername = (x: Contact, y: Contact): number => (x.username < y.username ? -1 : x.username > y.username ? 1 : 0);

function contactFlags(c: Contact): number {
  let f = 0;
  if (c.verified) f |= Flag.verified;
  if (c.verifiedAt !== null) f |= Flag.verifiedAt;
  if (c.profileKey) f |= Flag.profileKey;
  if (c.request) f |= Flag.request;
  if (c.holdsOurKey) f |= Flag.holdsOurKey;
  if (c.pinned) f |= Flag.pinned;
  if (c.muted) f |= Flag.muted;
  if (c.archived) f |= Flag.archived;
  return f;
}

function checkedText(s: string, max: number, what: string): Uint8Array {
  const b = utf8(s);
  if (b.length > max) fail('InvalidArgument', `${what} of ${b.length} bytes exceeds ${max}`);
  return b;
}

export function encodeAccountRecord(a: AccountRecord): Uint8Array {
  const name = checkedText(a.profile.displayName, LIMITS.displayName, 'display name');
  const about = checkedText(a.profile.about ?? '', LIMITS.about, 'about text');
  const settings = Object.keys(a.settings).sort();
  if (settings.length > LIMITS.settings) fail('InvalidArgument', `${settings.length} settings exceed ${LIMITS.settings}`);
  const contacts = [...a.contacts].sort(byUsername);
  const blocked = [...a.blocked].sort();
  const groups = sortedGroups(a.groups);
  checkSorted(contacts.map((c) => c.username), 'contacts', 'InvalidArgument');
  checkSorted(blocked, 'blocked', 'InvalidArgument');
  if (contacts.length > LIMITS.contacts || blocked.length > LIMITS.blocked) fail('InvalidArgument', 'too many contacts or blocked users');

  const w = new ByteWriter().u8(ACCOUNT_RECORD_VERSION).fixed(encodeIdentityKeyPair(a.identity), IDENTITY_KEY_PAIR_LEN).fixed(a.profileKey, PROFILE_KEY_LEN).bytes16(name).bytes16(about);
  w.u16(settings.length);
  for (const k of settings) {
    const key = utf8(k);
    const value = utf8(a.settings[k]!);
    if (key.length === 0 || key.length > LIMITS.settingKey || value.length > LIMITS.settingValue) fail('InvalidArgument', `setting of ${key.length}+${value.length} bytes out of bounds`);
    w.bytes16(key).bytes16(value);
  }
  w.u32(contacts.length);
  for (const c of contacts) {
    w.bytes16(utf8(asUsername(c.username, 'InvalidArgument'))).raw(encodeIdentityPublic(c.identity)).u8(contactFlags(c));
    if (c.verifiedAt !== null) w.u64(c.verifiedAt);
    if (c.profileKey) w.fixed(c.profileKey, PROFILE_KEY_LEN);
  }
  w.u32(blocked.length);
  for (const u of blocked) w.bytes16(utf8(asUsername(u, 'InvalidArgument')));
  writeGroups(w, groups);
  return w.finish();
}

/** The group section: entries sorted by id, each with its flags byte (version 4). */
function writeGroups(w: ByteWriter, groups: readonly GroupEntry[]): void {
  w.u16(groups.length);
  for (const g of groups) {
    if (!Number.isInteger(g.headVersion) || g.headVersion < 0 || g.headVersion > 0xffff_ffff) fail('InvalidArgument', `group head version ${g.headVersion}`);
    w.fixed(g.id, GROUP_KEY_LEN).fixed(g.masterKey, GROUP_KEY_LEN).u32(g.headVersion).fixed(g.headHash, GROUP_KEY_LEN);
    w.u8(groupFlags(g));
    if (g.inviteSecret) w.fixed(g.inviteSecret, INVITE_SECRET_LEN);
    if (g.requestFrom) w.bytes16(utf8(asUsername(g.requestFrom, 'InvalidArgument')));
    if (g.linkKey && !g.inviteSecret) fail('InvalidArgument', 'a group link key without its invite secret');
    if (g.linkKey) w.fixed(g.linkKey, GROUP_KEY_LEN);
  }
}

function sortedGroups(groups: readonly GroupEntry[]): GroupEntry[] {
  const sorted = [...groups].sort((x, y) => (toHex(x.id) < toHex(y.id) ? -1 : toHex(x.id) > toHex(y.id) ? 1 : 0));
  checkSorted(sorted.map((g) => toHex(g.id)), 'groups', 'InvalidArgument');
  if (sorted.length > LIMITS.groups) fail('InvalidArgument', `${sorted.length} groups exceed ${LIMITS.groups}`);
  return sorted;
}

/**
 * Group entries alone, in the record's current encoding behind its version byte: what a restore
 * keeps for groups it could not fetch yet (workers/engine/pin/pending-groups.ts).
 */
export function encodeGroupEntries(groups: readonly GroupEntry[]): Uint8Array {
  const w = new ByteWriter().u8(ACCOUNT_RECORD_VERSION);
  writeGroups(w, sortedGroups(groups));
  return w.finish();
}

export function decodeGroupEntries(bytes: Uint8Array): GroupEntry[] {
  const r = new ByteReader(bytes, 'group entries');
  const version = r.u8();
  // Kept across an app update: any record version whose group section carries flags (3 on) reads.
  if (version < 3 || !(READABLE_RECORD_VERSIONS as readonly number[]).includes(version)) fail('UnsupportedVersion', `group entries version ${version}`);
  const groups = readGroups(r, version);
  r.end();
  return groups;
}

function readFlag(r: ByteReader, what: string): boolean {
  const v = r.u8();
  if (v > 1) fail('DecodeFailed', `account record: ${what} flag ${v}`);
  return v === 1;
}

function readContactV1(r: ByteReader): Contact {
  const username = asUsername(readString(r, 64, 'contact username'), 'DecodeFailed');
  const identity = readIdentityPublic(r);
  verifyIdentity(identity);
  const verified = readFlag(r, 'verified');
  const verifiedAt = readFlag(r, 'verifiedAt') ? r.u64() : null;
  return { username, identity, verified, verifiedAt };
}

function readContactV2(r: ByteReader): Contact {
  const username = asUsername(readString(r, 64, 'contact username'), 'DecodeFailed');
  const identity = readIdentityPublic(r);
  verifyIdentity(identity);
  const f = r.u8();
  const c: Contact = { username, identity, verified: (f & Flag.verified) !== 0, verifiedAt: f & Flag.verifiedAt ? r.u64() : null };
  if (f & Flag.profileKey) c.profileKey = r.fixed(PROFILE_KEY_LEN).slice();
  if (f & Flag.request) c.request = true;
  if (f & Flag.holdsOurKey) c.holdsOurKey = true;
  if (f & Flag.pinned) c.pinned = true;
  if (f & Flag.muted) c.muted = true;
  if (f & Flag.archived) c.archived = true;
  return c;
}

/** Version 3's invite byte, or the group flags of version 4, 5 or 6, and what they announce. */
function readGroupFlags(r: ByteReader, version: number, g: GroupEntry): GroupEntry {
  const f = r.u8();
  const filed = GroupFlag.invite | GroupFlag.request | GroupFlag.pinned | GroupFlag.muted | GroupFlag.archived;
  const known = version >= 6 ? filed | GroupFlag.linkKey : version === 5 ? filed : version === 4 ? GroupFlag.invite | GroupFlag.request : GroupFlag.invite;
  if (f & ~known) fail('DecodeFailed', `account record: group flags ${f} in version ${version}`);
  if (f & GroupFlag.invite) g.inviteSecret = r.fixed(INVITE_SECRET_LEN).slice();
  if (f & GroupFlag.request) g.requestFrom = asUsername(readString(r, 64, 'group request adder'), 'DecodeFailed');
  if (f & GroupFlag.pinned) g.pinned = true;
  if (f & GroupFlag.muted) g.muted = true;
  if (f & GroupFlag.archived) g.archived = true;
  if (f & GroupFlag.linkKey) {
    if (!(f & GroupFlag.invite)) fail('DecodeFailed', 'account record: a group link key without its invite secret');
    g.linkKey = r.fixed(GROUP_KEY_LEN).slice();
  }
  return g;
}

function readGroups(r: ByteReader, version: number): GroupEntry[] {
  const groupCount = r.u16();
  if (version === 1 && groupCount !== 0) fail('DecodeFailed', 'account record: groups are reserved in version 1');
  if (groupCount > LIMITS.groups) fail('DecodeFailed', `account record: ${groupCount} groups exceed ${LIMITS.groups}`);
  const groups: GroupEntry[] = [];
  for (let i = 0; i < groupCount; i++) {
    const g: GroupEntry = { id: r.fixed(GROUP_KEY_LEN).slice(), masterKey: r.fixed(GROUP_KEY_LEN).slice(), headVersion: r.u32(), headHash: r.fixed(GROUP_KEY_LEN).slice() };
    groups.push(version >= 3 ? readGroupFlags(r, version, g) : g);
  }
  checkSorted(groups.map((g) => toHex(g.id)), 'groups', 'DecodeFailed');
  return groups;
}

export function decodeAccountRecord(bytes: Uint8Array): AccountRecord {
  const r = new ByteReader(bytes, 'account record');
  const version = r.u8();
  if (!(READABLE_RECORD_VERSIONS as readonly number[]).includes(version)) fail('UnsupportedVersion', `account record version ${version}`);
  let identity: IdentityKeyPair;
  try {
    identity = decodeIdentityKeyPair(r.fixed(IDENTITY_KEY_PAIR_LEN));
  } catch (e) {
    if (isProtocolError(e, 'DecodeFailed')) throw e;
    fail('DecodeFailed', 'account record: invalid identity key pair');
  }
  const profileKey = r.fixed(PROFILE_KEY_LEN).slice();
  const displayName = readString(r, LIMITS.displayName, 'display name');
  const about = version >= 2 ? readString(r, LIMITS.about, 'about text') : '';
  const settings: Record<string, string> = {};
  const settingCount = r.u16();
  if (settingCount > LIMITS.settings) fail('DecodeFailed', `account record: ${settingCount} settings exceed ${LIMITS.settings}`);
  const keys: string[] = [];
  for (let i = 0; i < settingCount; i++) {
    const k = readString(r, LIMITS.settingKey, 'setting key');
    if (k.length === 0) fail('DecodeFailed', 'account record: empty setting key');
    keys.push(k);
    settings[k] = readString(r, LIMITS.settingValue, 'setting value');
  }
  checkSorted(keys, 'settings', 'DecodeFailed');
  const contactCount = r.u32();
  if (contactCount > LIMITS.contacts) fail('DecodeFailed', `account record: ${contactCount} contacts exceed ${LIMITS.contacts}`);
  const contacts: Contact[] = [];
  for (let i = 0; i < contactCount; i++) contacts.push(version >= 2 ? readContactV2(r) : readContactV1(r));
  checkSorted(contacts.map((c) => c.username), 'contacts', 'DecodeFailed');
  const blockedCount = r.u32();
  if (blockedCount > LIMITS.blocked) fail('DecodeFailed', `account record: ${blockedCount} blocked exceed ${LIMITS.blocked}`);
  const blocked: Username[] = [];
  for (let i = 0; i < blockedCount; i++) blocked.push(asUsername(readString(r, 64, 'blocked username'), 'DecodeFailed'));
  checkSorted(blocked, 'blocked', 'DecodeFailed');
  const groups = readGroups(r, version);
  r.end();
  return { identity, profile: about ? { displayName, about } : { displayName }, profileKey, settings, contacts, blocked, groups };
}

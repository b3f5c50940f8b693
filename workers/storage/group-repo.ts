/**
 * Groups at rest (README "Groups"; SECURITY.md P19, P21, P32): one row per group, keyed by the hex
 * group id, with everything else sealed under the vault's data key — the signed history (the
 * core's own codec), the master key, our sender key, the members we gave it to, the sender keys
 * we hold for others, and the conversation's preview and counters. A group's conversation is its
 * own store (`groupMessages`), sender and body sealed. Knows nothing of what a change means.
 */
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { decodeGroupHistory, encodeGroupHistory } from '../../src/lib/crypto/group/group-history-codec';
import type { GroupHistory } from '../../src/lib/crypto/group/group-history';
import type { KeyEpoch } from '../../src/lib/crypto/group/key-epochs';
import type { OurSenderKey, TheirSenderKey } from '../../src/lib/crypto/group/sender-key';
import { decodeOurSenderKey, decodeTheirSenderKey, encodeOurSenderKey, encodeTheirSenderKey } from '../../src/lib/crypto/group/sender-key-state';
import type { Username } from '../../src/lib/codec/username';
import { decodeContent, encodeContent, type AttachmentContent } from '../../src/lib/wire/content';
import { engineFail } from '../engine/errors';
import { openJson, sealJson, type Conn } from './record-seal';
import type { GroupMessageRow, GroupRow, Tx, Vault } from './schema';
import { HistoryMemo } from './history-memo';
import { indexGroupMessage } from './search-groups';

const GROUPS = 'groups';
const MESSAGES = 'groupMessages';
const MAX_FIELD = 8 * 1024 * 1024;

export interface GroupRecord {
  /** Hex of the group id. */
  id: string;
  history: GroupHistory;
  masterKey: Uint8Array;
  /** Our sender key; undefined once we are no longer a member. */
  our?: OurSenderKey;
  /** Usernames our current sender key was given to (P21: rotate when one is no longer a member). */
  distributedTo: Username[];
  /** The newest distributions we hold from other members (a few per sender, for late messages). */
  theirs: TheirSenderKey[];
  lastAt: number;
  lastPreview: string;
  unread: number;
  missing: number;
  /** Highest head version a member's message claimed: above ours means a change was withheld (P19). */
  seenVersion: number;
  /** Group messages encrypted (sender key advanced in the same transaction) and not yet uploaded. */
  outgoing: OutgoingGroupMessage[];
  /** Admins: the current invite link's secret (README "Groups": invite links); never sent to the host. */
  inviteSecret?: Uint8Array;
  /** Unread messages that mention us (README "Groups": mentions): the chat list's "@" until read. */
  mentionsUnread?: number;
  /** How the user filed it on this browser (group-flags.ts, README "Chat list"); absent = off. */
  pinned?: true;
  /** Muted: counted, not notified, except a new mention of us. */
  muted?: true;
  archived?: true;
  /** A group request (P42): who added us, not accepted yet; no receipts or profile key until then. */
  requestFrom?: Username;
  /**
   * The pairwise identity each held sender key came under (hex distribution id -> identity key):
   * a key a member's changed, unaccepted safety number gave is flagged like a 1:1 message (P36, P3).
   */
  keyFrom?: Record<string, Uint8Array>;
  /**
   * Sealed sender v3 (crypto/sealed-sender-v3.ts): the seal key each member gave with a held
   * sender key (hex distribution id -> key), kept and dropped with that key (as `keyFrom`).
   */
  sealFrom?: Record<string, Uint8Array>;
  /**
   * The seal key we gave each member with our CURRENT sender key (username -> key); replaced when
   * it rotates. Our group messages go as v3 only when every recipient holds one of these.
   */
  sealKeys?: Record<string, Uint8Array>;
  /**
   * Members a welcome of ours to was dropped because their key changed before it left (P36): each
   * is sent the current one once the user accepts that key (engine/group-welcome-owed.ts).
   */
  welcomeOwed?: Username[];
  /**
   * Our changes a simultaneous change undid whose actions still applied (engine/group-undone.ts),
   * encoded by the group-change codec, newest last: "Try again" signs what still applies.
   */
  undone?: Uint8Array[];
  /**
   * Master keys made since `masterKey` (our base key: given at creation or in our welcome) for
   * changes that took someone out (crypto/group/key-epochs.ts): the newest live one seals and
   * opens the state blob; the base key stays for the invite blob's write token.
   */
  epochs?: KeyEpoch[];
  /** A key handoff of ours still to write at the old key's address (group-key-epochs.ts). */
  handoff?: { change: string; oldKey: Uint8Array };
  /**
   * The newest change that took someone out whose key we wait for (crypto/group/key-epochs.ts
   * `awaitsEpoch`), and since when (ms); while it is awaited, for at most AWAIT_KEY_MS, no blob is
   * written, and `blobDeferred` says one was held back, to be written once the key arrives or
   * the wait ends (group-sync.ts).
   */
  awaiting?: string;
  awaitingSince?: number;
  blobDeferred?: true;
  /**
   * With `inviteSecret`, after a PIN restore: the master key the link's blob write token derives
   * from, when it is not `masterKey` (the host holds the hash of the token made with it).
   */
  linkKey?: Uint8Array;
}

export interface OutgoingGroupMessage {
  messageKey: string;
  body: Uint8Array;
  to: Username[];
}

export type GroupMessageStatus = 'queued' | 'sent' | 'received' | 'failed';
export interface GroupMessageRecord {
  key: string;
  groupId: string;
  id: string;
  /** Who wrote it ('' for our own and for system entries). */
  sender: string;
  direction: 'in' | 'out' | 'system';
  body: string;
  sentAt: number;
  receivedAt: number;
  status: GroupMessageStatus;
  /**
   * System entries: what happened (member added, removed, left, messages missing; the name,
   * description or picture changed: `sender` is who changed it, `body` the new name).
   */
  notice?: 'gap' | 'joined' | 'added-you' | 'removed' | 'left' | 'created' | 'you-removed' | 'restored' | 'renamed' | 'described' | 'pictured' | 'unpictured' | 'undone' | 'unjoined' | 'rejoined' | 'name-reverted' | 'info-reverted';
  /** Ours: the members it was sent to (the "of N" of its receipts). */
  recipients?: Username[];
  /** Ours: how far it got with each recipient, moved only forward by that member's receipts. */
  receipts?: Record<string, GroupReceiptState>;
  /** Members the text mentions (only members, checked on receipt). */
  mentions?: Username[];
  /** Theirs: read by us (markGroupRead), so a read receipt went out once. */
  read?: boolean;
  /** Message actions (group-actions.ts, P47): the local key of the message this replies to. */
  quote?: string;
  /** Reactions, one per member: username -> emoji (ours under our own username). */
  reactions?: Record<string, string>;
  /** The author's clock of the last edit applied, and the earlier texts (the newest few). */
  editedAt?: number;
  history?: { text: string; at: number }[];
  /** Deleted for everyone: `body` is empty and nothing else of it is kept. */
  deleted?: true;
  /**
   * A file or voice note (README "Groups": files in groups; P45): the pointer the sender key
   * carried — blob id, key, digest, size, type, name, preview. `body` is then its caption.
   */
  attachment?: AttachmentContent;
  /** Theirs: its sender key came under a changed safety number not accepted yet (P36, P3). */
  keyChanged?: true;
}

export type GroupReceiptState = 'delivered' | 'read';

interface GroupJson {
  history: string;
  masterKey: string;
  our?: string;
  distributedTo: Username[];
  theirs: string[];
  lastPreview: string;
  unread: number;
  missing: number;
  seenVersion: number;
  outgoing: { messageKey: string; body: string; to: Username[] }[];
  inviteSecret?: string;
  mentionsUnread?: number;
  pinned?: true;
  muted?: true;
  archived?: true;
  requestFrom?: Username;
  keyFrom?: Record<string, string>;
  sealFrom?: Record<string, string>;
  sealKeys?: Record<string, string>;
  welcomeOwed?: Username[];
  undone?: string[];
  epochs?: { change: string; version: number; key: string }[];
  handoff?: { change: string; oldKey: string };
  awaiting?: string;
  awaitingSince?: number;
  blobDeferred?: true;
  linkKey?: string;
}

const b64 = toBase64Url;
const unb64 = (s: string) => fromBase64Url(s, MAX_FIELD);

/** 8 Mi characters of base64 encodings: about 40 histories of 1,000 members, or thousands of small ones. */
export const HISTORY_MEMO_CHARS = 8 * 1024 * 1024;
const histories = new HistoryMemo(HISTORY_MEMO_CHARS);
/** Drops the decoded histories kept (app-lock-repo.ts `lockVault`, P46): a locked worker holds no group's plaintext. */
export function forgetGroupHistories(): void {
  histories.clear();
}

/** Decoded histories and encoding characters kept (tests). */
export function groupHistoriesHeld(): { histories: number; chars: number } {
  return histories.size;
}

const historyFrom = (encoded: string): GroupHistory => histories.decode(encoded, (e) => decodeGroupHistory(unb64(e)));
const historyTo = (h: GroupHistory): string => histories.encode(h, (x) => b64(encodeGroupHistory(x, { orphans: true, branches: true })));

export function toGroupRow(c: Conn, g: GroupRecord): GroupRow {
  const json: GroupJson = {
    history: historyTo(g.history),
    masterKey: b64(g.masterKey),
    ...(g.our ? { our: b64(encodeOurSenderKey(g.our)) } : {}),
    distributedTo: g.distributedTo,
    theirs: g.theirs.map((t) => b64(encodeTheirSenderKey(t))),
    lastPreview: g.lastPreview,
    unread: g.unread,
    missing: g.missing,
    seenVersion: g.seenVersion,
    outgoing: g.outgoing.map((o) => ({ ...o, body: b64(o.body) })),
    ...(g.inviteSecret ? { inviteSecret: b64(g.inviteSecret) } : {}),
    ...(g.mentionsUnread ? { mentionsUnread: g.mentionsUnread } : {}),
    ...(g.pinned ? { pinned: true as const } : {}),
    ...(g.muted ? { muted: true as const } : {}),
    ...(g.archived ? { archived: true as const } : {}),
    ...(g.requestFrom ? { requestFrom: g.requestFrom } : {}),
    ...(g.keyFrom ? { keyFrom: Object.fromEntries(Object.entries(g.keyFrom).map(([k, v]) => [k, b64(v)])) } : {}),
    ...(g.sealFrom ? { sealFrom: Object.fromEntries(Object.entries(g.sealFrom).map(([k, v]) => [k, b64(v)])) } : {}),
    ...(g.sealKeys ? { sealKeys: Object.fromEntries(Object.entries(g.sealKeys).map(([k, v]) => [k, b64(v)])) } : {}),
    ...(g.welcomeOwed?.length ? { welcomeOwed: g.welcomeOwed } : {}),
    ...(g.undone?.length ? { undone: g.undone.map(b64) } : {}),
    ...(g.epochs?.length ? { epochs: g.epochs.map((e) => ({ change: e.change, version: e.version, key: b64(e.key) })) } : {}),
    ...(g.handoff ? { handoff: { change: g.handoff.change, oldKey: b64(g.handoff.oldKey) } } : {}),
    ...(g.awaiting ? { awaiting: g.awaiting, awaitingSince: g.awaitingSince ?? 0 } : {}),
    ...(g.blobDeferred ? { blobDeferred: true as const } : {}),
    ...(g.linkKey ? { linkKey: b64(g.linkKey) } : {})
  };
  return { id: g.id, lastAt: g.lastAt, sealed: sealJson(c, GROUPS, g.id, json) };
}

export function fromGroupRow(c: Conn, row: GroupRow): GroupRecord {
  const j = openJson<GroupJson>(c, GROUPS, row.id, row.sealed);
  return {
    id: row.id,
    lastAt: row.lastAt,
    history: historyFrom(j.history),
    masterKey: unb64(j.masterKey),
    ...(j.our ? { our: decodeOurSenderKey(unb64(j.our)) } : {}),
    distributedTo: j.distributedTo,
    theirs: j.theirs.map((t) => decodeTheirSenderKey(unb64(t))),
    lastPreview: j.lastPreview,
    unread: j.unread,
    missing: j.missing,
    seenVersion: j.seenVersion,
    outgoing: j.outgoing.map((o) => ({ ...o, body: unb64(o.body) })),
    ...(j.inviteSecret ? { inviteSecret: unb64(j.inviteSecret) } : {}),
    ...(j.mentionsUnread ? { mentionsUnread: j.mentionsUnread } : {}),
    ...(j.pinned ? { pinned: true as const } : {}),
    ...(j.muted ? { muted: true as const } : {}),
    ...(j.archived ? { archived: true as const } : {}),
    ...(j.requestFrom ? { requestFrom: j.requestFrom } : {}),
    ...(j.keyFrom ? { keyFrom: Object.fromEntries(Object.entries(j.keyFrom).map(([k, v]) => [k, unb64(v)])) } : {}),
    ...(j.sealFrom ? { sealFrom: Object.fromEntries(Object.entries(j.sealFrom).map(([k, v]) => [k, unb64(v)])) } : {}),
    ...(j.sealKeys ? { sealKeys: Object.fromEntries(Object.entries(j.sealKeys).map(([k, v]) => [k, unb64(v)])) } : {}),
    ...(j.welcomeOwed?.length ? { welcomeOwed: j.welcomeOwed } : {}),
    ...(j.undone?.length ? { undone: j.undone.map(unb64) } : {}),
    ...(j.epochs?.length ? { epochs: j.epochs.map((e) => ({ change: e.change, version: e.version, key: unb64(e.key) })) } : {}),
    ...(j.handoff ? { handoff: { change: j.handoff.change, oldKey: unb64(j.handoff.oldKey) } } : {}),
    ...(j.awaiting ? { awaiting: j.awaiting, awaitingSince: j.awaitingSince ?? 0 } : {}),
    ...(j.blobDeferred ? { blobDeferred: true as const } : {}),
    ...(j.linkKey ? { linkKey: unb64(j.linkKey) } : {})
  };
}

export async function listGroups(vault: Vault): Promise<GroupRecord[]> {
  const rows = await vault.db.getAllFromIndex(GROUPS, 'byLastAt');
  return rows.reverse().map((r) => fromGroupRow(vault.db, r));
}

export async function getGroup(vault: Vault, id: string): Promise<GroupRecord | undefined> {
  const row = await vault.db.get(GROUPS, id);
  return row && fromGroupRow(vault.db, row);
}

export async function txGetGroup(tx: Tx, id: string): Promise<GroupRecord | undefined> {
  const row = await tx.objectStore(GROUPS).get(id);
  return row && fromGroupRow(tx, row);
}

export async function txListGroups(tx: Tx): Promise<GroupRecord[]> {
  return (await tx.objectStore(GROUPS).getAll()).map((r) => fromGroupRow(tx, r));
}

export async function putGroup(tx: Tx, g: GroupRecord): Promise<void> {
  await tx.objectStore(GROUPS).put(toGroupRow(tx, g));
}

interface MessageJson {
  id: string;
  sender: string;
  direction: GroupMessageRecord['direction'];
  body: string;
  receivedAt: number;
  status: GroupMessageStatus;
  notice?: GroupMessageRecord['notice'];
  recipients?: Username[];
  receipts?: Record<string, GroupReceiptState>;
  mentions?: Username[];
  read?: boolean;
  quote?: string;
  reactions?: Record<string, string>;
  editedAt?: number;
  history?: { text: string; at: number }[];
  deleted?: true;
  /** A file: its attachment content (wire/attachment-content.ts, kind 0x10) in base64url, sealed with the rest. */
  file?: string;
  keyChanged?: true;
}

export function toGroupMessageRow(c: Conn, m: GroupMessageRecord): GroupMessageRow {
  const { key, groupId, sentAt, attachment, ...rest } = m;
  const file = attachment ? { file: b64(encodeContent(attachment)) } : {};
  return { key, groupId, sentAt, sealed: sealJson(c, MESSAGES, key, { ...rest, ...file } satisfies MessageJson) };
}

export function fromGroupMessageRow(c: Conn, row: GroupMessageRow): GroupMessageRecord {
  const { file, ...j } = openJson<MessageJson>(c, MESSAGES, row.key, row.sealed);
  return { key: row.key, groupId: row.groupId, sentAt: row.sentAt, ...j, ...(file ? { attachment: storedAttachment(file) } : {}) };
}

function storedAttachment(file: string): AttachmentContent {
  const content = decodeContent(unb64(file));
  if (content.kind !== 'attachment') return engineFail('StorageLost', 'a sealed group file is not an attachment');
  return content;
}

export async function listGroupMessages(vault: Vault, groupId: string): Promise<GroupMessageRecord[]> {
  const rows = await vault.db.getAllFromIndex(MESSAGES, 'byGroup', IDBKeyRange.bound([groupId, 0], [groupId, Number.MAX_SAFE_INTEGER]));
  return rows.map((r) => fromGroupMessageRow(vault.db, r));
}

/** One group message, read outside any write (a page's question, not part of a change). */
export async function getGroupMessage(vault: Vault, key: string): Promise<GroupMessageRecord | undefined> {
  const row = await vault.db.get(MESSAGES, key);
  return row && fromGroupMessageRow(vault.db, row);
}

export async function txGetGroupMessage(tx: Tx, key: string): Promise<GroupMessageRecord | undefined> {
  const row = await tx.objectStore(MESSAGES).get(key);
  return row && fromGroupMessageRow(tx, row);
}

export async function putGroupMessage(tx: Tx, m: GroupMessageRecord): Promise<void> {
  await tx.objectStore(MESSAGES).put(toGroupMessageRow(tx, m));
  await indexGroupMessage(tx, m);
}

/**
 * The newest incoming messages of a group not yet read, newest first, at most `limit` (the
 * group's unread count bounds the walk; a message from before the newest read one is not missed).
 */
export async function txUnreadGroupMessages(tx: Tx, groupId: string, limit: number): Promise<GroupMessageRecord[]> {
  const out: GroupMessageRecord[] = [];
  if (limit <= 0) return out;
  let cursor = await tx.objectStore(MESSAGES).index('byGroup').openCursor(IDBKeyRange.bound([groupId, 0], [groupId, Number.MAX_SAFE_INTEGER]), 'prev');
  while (cursor && out.length < limit) {
    const m = fromGroupMessageRow(tx, cursor.value);
    if (m.direction === 'in' && !m.read) out.push(m);
    cursor = await cursor.continue();
  }
  return out;
}

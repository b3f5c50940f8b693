/**
 * GroupHistory's strict, versioned encoding: what a member stores, what a welcome carries to a
 * new member (inside the 1:1 ratchet), and what a state blob holds (state-blob.ts).
 *
 *   history = u8 format (1) || u32 length || anchor GroupState
 *             || u16 count || (u32 length || GroupChange)*      accepted changes, by (base version, id)
 *             || u8 count || (u32 length || GroupChange)*       orphans, oldest first (optional)
 *
 * Only the anchor and the changes are stored; the tree, the head and the path to it are rebuilt
 * by receiving the changes again (every signature is checked again), which cannot depend on
 * their order. decodeGroupHistory trusts the anchor — so it is for our own storage and for a
 * welcome from a member we have a session with; a blob from the host is merged into a history we
 * already trust with receiveChanges (decodeGroupHistoryParts), so a forged anchor gains nothing.
 * Knows nothing of where the bytes are kept.
 */
import { fail } from '../../codec/errors';
import { ByteReader, ByteWriter } from '../../codec/bytes';
import { decodeGroupChange, encodeGroupChange, type GroupChange } from './group-change';
import { decodeGroupState, encodeGroupState } from './group-state-codec';
import type { GroupState } from './group-state';
import { receiveChanges, startHistory, type GroupHistory } from './group-history';
import { MAX_CHANGE_BYTES, MAX_HISTORY_CHANGES, MAX_ORPHANS } from './limits';

export const HISTORY_FORMAT = 1;
/** A 1000-member state is ~180 KB; 1 MiB leaves room for the longest text fields and requests. */
const MAX_STATE_BYTES = 1024 * 1024;

export interface HistoryParts {
  anchor: GroupState;
  changes: GroupChange[];
  orphans: GroupChange[];
}

/**
 * `branches: false` keeps only the path to the head (what a blob carries: a reader needs no lost
 * branch, and the blob stays under its largest bucket); `orphans: true` adds waiting changes
 * (what our own storage keeps).
 */
export function encodeGroupHistory(h: GroupHistory, opts: { orphans?: boolean; branches?: boolean } = {}): Uint8Array {
  const w = new ByteWriter().u8(HISTORY_FORMAT).bytes32(encodeGroupState(h.anchor));
  const kept = opts.branches === false ? h.canonical.map((id) => h.edges.get(id)!) : [...h.edges.values()];
  const edges = kept.sort((a, b) => a.change.baseVersion - b.change.baseVersion || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  w.u16(edges.length);
  for (const e of edges) w.bytes32(encodeGroupChange(e.change));
  const orphans = opts.orphans ? h.orphans : [];
  w.u8(orphans.length);
  for (const o of orphans) w.bytes32(encodeGroupChange(o));
  return w.finish();
}

/**
 * The history a welcome carries: the path to the head, or — when that exceeds `maxBytes` (a large
 * group whose kept path holds several picture changes, limits.ts MAX_AVATAR_BYTES) — the head
 * alone as the anchor. The newcomer trusts the welcomer's anchor either way (a welcome is
 * authenticated by the 1:1 session); what it loses is only the older states that concurrent
 * changes may be based on, which then arrive by the state blob's path or are refused as any
 * change below the anchor is.
 */
export function encodeWelcomeHistory(h: GroupHistory, maxBytes: number): Uint8Array {
  const path = encodeGroupHistory(h, { branches: false });
  if (path.length <= maxBytes) return path;
  const head = encodeGroupHistory(startHistory(h.head));
  if (head.length > maxBytes) fail('InvalidArgument', `group state of ${head.length} bytes exceeds a welcome's ${maxBytes}`);
  return head;
}

export function decodeGroupHistoryParts(bytes: Uint8Array): HistoryParts {
  const r = new ByteReader(bytes, 'group history');
  const format = r.u8();
  if (format !== HISTORY_FORMAT) fail('UnsupportedVersion', `group history format ${format}`);
  const anchor = decodeGroupState(r.bytes32(MAX_STATE_BYTES));
  const count = r.u16();
  if (count > MAX_HISTORY_CHANGES) fail('DecodeFailed', `${count} changes exceed ${MAX_HISTORY_CHANGES}`);
  const changes: GroupChange[] = [];
  for (let i = 0; i < count; i++) changes.push(decodeGroupChange(r.bytes32(MAX_CHANGE_BYTES)));
  const orphanCount = r.u8();
  if (orphanCount > MAX_ORPHANS) fail('DecodeFailed', `${orphanCount} orphans exceed ${MAX_ORPHANS}`);
  const orphans: GroupChange[] = [];
  for (let i = 0; i < orphanCount; i++) orphans.push(decodeGroupChange(r.bytes32(MAX_CHANGE_BYTES)));
  r.end();
  return { anchor, changes, orphans };
}

/** Rebuilds a stored or welcomed history; a change its own anchor refuses means the bytes are corrupt. */
export function decodeGroupHistory(bytes: Uint8Array): GroupHistory {
  return historyFromParts(decodeGroupHistoryParts(bytes));
}

/**
 * A history that trusts `parts.anchor`: for our own storage, a welcome from a member we have a
 * session with, or an invite blob opened with the link (the link is the trust anchor there).
 */
export function historyFromParts({ anchor, changes, orphans }: HistoryParts): GroupHistory {
  const built = receiveChanges(startHistory(anchor), changes);
  if (built.refused.length > 0) fail('DecodeFailed', `${built.refused.length} of ${changes.length} stored changes refused by their own history`);
  const withOrphans = receiveChanges(built.history, orphans);
  if (withOrphans.history.edges.size < changes.length) fail('DecodeFailed', 'stored changes missing after rebuild');
  return withOrphans.history;
}

/**
 * Gaps in a conversation, shown where they happened (SECURITY.md P14 "deletions are detectable"):
 *
 *   a message the ratchet shows was skipped (dropped or withheld by the host)
 *       -> a `gap` marker just before the message that revealed it
 *   an envelope from a contact that could not be read (tampered, or for a session we lost)
 *       -> an `undecryptable` marker where it arrived
 *   the named message arrives after all (late, sent again, or a genuine copy of a tampered one)
 *       -> its marker is removed
 *
 * Markers are system records keyed by the message's ref (refs.ts), so one missing message has at
 * most one marker whichever way it went missing, and the chat's `missing` count is the number of
 * markers. The UI groups adjacent markers ("3 messages could not be delivered"). Unreadable
 * envelopes are host-controlled input: their markers are capped per chat. Runs inside the
 * caller's transaction; knows nothing of sessions or crypto.
 */
import { toHex } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import type { MessageRef } from '../../src/lib/wire/content';
import { updateChat } from '../storage/chat-repo';
import { deleteMessage, putMessage, txGetMessage } from '../storage/message-repo';
import type { MessageRecord, Tx } from '../storage/schema';
import { refKey } from './refs';

export const GapNotice = { gap: 'gap', undecryptable: 'undecryptable' } as const;
/** Most unreadable-envelope markers kept per chat: a host forging envelopes cannot flood the log. */
export const MAX_UNDECRYPTABLE_MARKERS = 100;

const gapKey = (username: Username, ref: MessageRef): string => `gap:${username}:${refKey(ref)}`;
const lostPrefix = (username: Username): string => `lost:${username}:`;
const lostKey = (username: Username, ref: MessageRef): string => `${lostPrefix(username)}${refKey(ref)}`;

function marker(key: string, username: Username, code: string, at: number): MessageRecord {
  return { key, id: key, username, direction: 'system', body: code, sentAt: at, receivedAt: at, status: 'received' };
}

async function exists(tx: Tx, key: string): Promise<boolean> {
  return (await tx.objectStore('messages').getKey(key)) !== undefined;
}

async function addMissing(tx: Tx, username: Username, delta: number): Promise<void> {
  if (delta !== 0) await updateChat(tx, username, (c) => ({ ...c, missing: Math.max(0, c.missing + delta) }));
}

/** Marks messages the ratchet just found missing, at sort position `at`; answers how many are new. */
export async function markGaps(tx: Tx, username: Username, refs: readonly MessageRef[], at: number): Promise<number> {
  let added = 0;
  for (const ref of refs) {
    if ((await exists(tx, gapKey(username, ref))) || (await exists(tx, lostKey(username, ref)))) continue;
    await putMessage(tx, marker(gapKey(username, ref), username, GapNotice.gap, at));
    added++;
  }
  await addMissing(tx, username, added);
  return added;
}

/**
 * Marks an envelope that could not be read where it arrived. Without a readable header it is
 * named by a random id (it can then never be cleared, as no message will claim it).
 */
export async function markUndecryptable(tx: Tx, username: Username, ref: MessageRef | undefined, at: number, rng: (n: number) => Uint8Array): Promise<boolean> {
  const store = tx.objectStore('messages');
  const prefix = lostPrefix(username);
  if ((await store.count(IDBKeyRange.bound(prefix, `${prefix}\uffff`))) >= MAX_UNDECRYPTABLE_MARKERS) return false;
  if (ref && (await exists(tx, gapKey(username, ref)))) return false;
  const key = ref ? lostKey(username, ref) : `${prefix}~${toHex(rng(16))}`;
  if (await txGetMessage(tx, key)) return false;
  await putMessage(tx, marker(key, username, GapNotice.undecryptable, at));
  await addMissing(tx, username, 1);
  return true;
}

/** The message `ref` arrived: its marker, if any, goes. Answers whether one was removed. */
export async function clearMarker(tx: Tx, username: Username, ref: MessageRef): Promise<boolean> {
  let removed = 0;
  for (const key of [gapKey(username, ref), lostKey(username, ref)]) {
    if (await exists(tx, key)) {
      await deleteMessage(tx, key);
      removed++;
    }
  }
  await addMissing(tx, username, -removed);
  return removed > 0;
}

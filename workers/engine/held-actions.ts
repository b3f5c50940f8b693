/**
 * Actions held for a message we do not hold yet, kept across a reload (README "Message actions";
 * P47 who may act, P32 sealed at rest): an edit, delete or reaction that arrives before its
 * message (a host reordering envelopes) waits HOLD_MS, by OUR clock at its arrival, for that
 * message; at most MAX_HELD at once, the oldest going first. The list is one meta row per kind
 * (1:1 and groups), sealed whole under the vault's data key like the privacy settings (so the P46
 * rotation re-seals it with the other meta values), read and written inside the receive
 * transaction that holds or applies an action: a reload, a crash or an aborted transaction never
 * leaves memory and disk disagreeing, and no schema step was needed.
 *
 * Bounds hold whatever the host does: an entry's time is our clock when we opened the action, not
 * the envelope's; one that is stale (or dated ahead of our clock by more than HOLD_MS, a clock
 * set back) is dropped on every read; a flood keeps only the newest MAX_HELD, within MAX_HELD_BYTES. A replayed envelope
 * is refused by the ratchet or sender-key chain before anything is held. Which message an entry
 * may reach is the caller's rule (the authenticated sender and chat, P47). Knows nothing of the
 * actions' meaning.
 */
import { openJson, sealJson } from '../storage/record-seal';
import type { Sealed, Tx } from '../storage/schema';

/** How long an action for a message we do not hold waits for it (by our clock). */
export const HOLD_MS = 60_000;
/** Most actions held at once per kind (1:1, groups); the oldest go first. */
export const MAX_HELD = 64;

/**
 * Most bytes held at once per kind (the JSON the row seals): a held edit may carry up to 64 KiB of
 * text, so without this a peer's flood of 64 held edits would make a ~4 MiB row, rewritten on
 * every action held; the newest that fit are kept.
 */
export const MAX_HELD_BYTES = 256 * 1024;

/** The meta rows: 1:1 actions (message-actions.ts) and group actions (group-actions.ts). */
export const HELD_META = 'heldActions';
export const HELD_GROUP_META = 'heldGroupActions';
export type HeldMeta = typeof HELD_META | typeof HELD_GROUP_META;

/** Every held entry records when we received it. */
export interface HeldEntry {
  at: number;
}

interface Row<T> {
  e: T[];
}

function fresh<T extends HeldEntry>(list: readonly T[], now: number): T[] {
  return list.filter((h) => typeof h?.at === 'number' && now - h.at <= HOLD_MS && h.at - now <= HOLD_MS).slice(-MAX_HELD);
}

async function stored<T extends HeldEntry>(tx: Tx, meta: HeldMeta): Promise<T[]> {
  const sealed = (await tx.objectStore('meta').get(meta)) as Sealed | undefined;
  if (!sealed) return [];
  const row = openJson<Row<T>>(tx, 'meta', meta, sealed);
  return Array.isArray(row?.e) ? row.e : [];
}

/** The held entries still within their time, oldest first. */
export async function readHeld<T extends HeldEntry>(tx: Tx, meta: HeldMeta, now: number): Promise<T[]> {
  return fresh(await stored<T>(tx, meta), now);
}

/** The list as it may be written: in time, at most MAX_HELD, and the newest that fit MAX_HELD_BYTES. */
export function boundHeld<T extends HeldEntry>(list: readonly T[], now: number): T[] {
  const inTime = fresh(list, now);
  let bytes = 0;
  let first = inTime.length;
  while (first > 0) {
    bytes += JSON.stringify(inTime[first - 1]).length;
    if (bytes > MAX_HELD_BYTES) break;
    first--;
  }
  return inTime.slice(first);
}

/** Writes the held list (bounded again), or removes the row when nothing waits. */
export async function writeHeld<T extends HeldEntry>(tx: Tx, meta: HeldMeta, list: readonly T[], now: number): Promise<void> {
  const kept = boundHeld(list, now);
  const store = tx.objectStore('meta');
  if (kept.length === 0) await store.delete(meta);
  else await store.put(sealJson(tx, 'meta', meta, { e: kept } satisfies Row<T>), meta);
}

/** Holds `entry` (its `at` is our clock now) after the ones already waiting. */
export async function addHeld<T extends HeldEntry>(tx: Tx, meta: HeldMeta, entry: T): Promise<void> {
  await writeHeld(tx, meta, [...(await readHeld<T>(tx, meta, entry.at)), entry], entry.at);
}

/**
 * Takes out the held entries `matches` picks (the caller applies them in the order they came);
 * the stale ones are forgotten. Writes the row only when something changed, so the common case
 * (nothing held) costs one read of an absent row.
 */
export async function takeHeld<T extends HeldEntry>(tx: Tx, meta: HeldMeta, now: number, matches: (h: T) => boolean): Promise<T[]> {
  const all = await stored<T>(tx, meta);
  if (all.length === 0) return [];
  const list = fresh(all, now);
  const mine = list.filter(matches);
  const rest = list.filter((h) => !mine.includes(h));
  if (rest.length !== all.length) await writeHeld(tx, meta, rest, now);
  return mine;
}

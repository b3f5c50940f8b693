/**
 * Where a message goes among the loaded part of a conversation: by its sort position (`sortAt`,
 * ties by id — the vault's index order), so a late message slots into place (P14) and one moved by
 * "send again" (P36) leaves its old place. Pure: answers a new array, or the same one when nothing
 * changed, so a screen re-renders only the row that did.
 */
import type { MessageView } from '../vault/views';

export interface Placed {
  messages: MessageView[];
  /** Where it now is, or -1 if it belongs to history not loaded yet (or was not placed). */
  index: number;
}

const RANK: Partial<Record<string, number>> = { sent: 1, delivered: 2, read: 3 };

const sortKey = (m: MessageView): number => m.sortAt ?? m.at;

/** -1 if `a` sorts before `b`. */
function compare(a: MessageView, b: MessageView): number {
  const d = sortKey(a) - sortKey(b);
  if (d !== 0) return d < 0 ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The first index whose message sorts after `m`. */
function insertionPoint(list: readonly MessageView[], m: MessageView): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list[mid]!, m) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A status never goes back from sent/delivered/read on a stale copy of the message. */
function keepProgress(old: MessageView | undefined, next: MessageView): MessageView {
  if (old?.kind !== 'text' || next.kind !== 'text' || sortKey(old) !== sortKey(next)) return next;
  const was = RANK[old.status ?? ''] ?? 0;
  return was > (RANK[next.status ?? ''] ?? 0) ? { ...next, status: old.status! } : next;
}

/**
 * `list` with `message` in its place. `older`: history before `list[0]` is not loaded, so a
 * message that sorts before it is left for that page to bring.
 */
export function placeMessage(list: readonly MessageView[], message: MessageView, older: boolean): Placed {
  const at = list.findLastIndex((m) => m.id === message.id);
  const old = at >= 0 ? list[at] : undefined;
  const next = keepProgress(old, message);
  if (old && compare(old, next) === 0) {
    if (sameView(old, next)) return { messages: list as MessageView[], index: at };
    return { messages: list.with(at, next), index: at };
  }
  const rest = at >= 0 ? list.toSpliced(at, 1) : [...list];
  const i = insertionPoint(rest, next);
  if (i === 0 && older && rest.length > 0) return { messages: at >= 0 ? rest : (list as MessageView[]), index: -1 };
  rest.splice(i, 0, next);
  return { messages: rest, index: i };
}

function sameView(a: MessageView, b: MessageView): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => a[k as keyof MessageView] === b[k as keyof MessageView]);
}

/**
 * The order a batch's envelopes are written in (README "Envelopes at rest"). The mailbox writer
 * hands the store one batch per tick, in arrival order, so the N copies of one group message
 * would take N consecutive ids and sit side by side in the files: a run that names the group's
 * members even when every body is sealed apart. The rows are written in a random order instead,
 * with each mailbox's own envelopes kept in their order (port.ts: FIFO admission per mailbox, ids
 * ascending per recipient), so within a batch the copies of one message mix with everything else
 * written in that tick. On a quiet host a batch may hold only that message: this hides nothing
 * then, and says so in the README.
 */
import { randomFillSync } from 'node:crypto';

/**
 * A permutation `order` of 0..n-1 (row k is written from input `order[k]`): random, except that
 * the inputs of one key stay in their input order.
 */
export function interleave(keys: readonly string[]): number[] {
  const n = keys.length;
  if (n < 2) return keys.map((_, i) => i);
  const r = randomFillSync(new Uint32Array(n));
  const slots = Array.from({ length: n }, (_, i) => i).sort((a, b) => r[a]! - r[b]! || a - b);
  // Each key's slots, taken in slot order, receive that key's inputs in input order.
  const queues = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const q = queues.get(keys[i]!);
    if (q) q.push(i);
    else queues.set(keys[i]!, [i]);
  }
  const taken = new Map<string, number>();
  const order = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const key = keys[slots[k]!]!;
    const t = taken.get(key) ?? 0;
    order[k] = queues.get(key)![t]!;
    taken.set(key, t + 1);
  }
  return order;
}

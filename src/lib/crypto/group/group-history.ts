/**
 * A member's view of a group over time: the changes it has received, arranged as a tree of
 * states, and the head every member with the same changes agrees on (P19 convergence).
 *
 *            anchor (kept, trusted)
 *              |  change a (admin A)        change b (admin B), same base
 *              v                            v
 *            S1a ---- change c ---> S2    S1b          fork-choice.ts picks a or b;
 *                                                       the loser's subtree is voided
 *
 * Every edge is a change that applyChange accepted against its own parent state, so every state
 * in the tree is one some author signed off on, step by step from the anchor (P19: a change from
 * a non-member, the host, or a non-admin where an admin is needed never enters). The head is
 * found by walking from the anchor, taking the fork-choice winner at each state. The walk
 * depends only on the set of changes held, so duplicates and arrival order do not matter
 * (tests/crypto/group/convergence.test.ts checks this with a fast-check model).
 *
 * A change whose base has not arrived yet waits (orphans, bounded). A change based below the
 * anchor is refused as RolledBack: the history keeps HISTORY_DEPTH versions under the head, and
 * a member must not let an old branch rewrite more than that. Convergence is therefore
 * guaranteed for changes that reach every member before its head is HISTORY_DEPTH versions past
 * their base; a change later than that is refused by members that have moved on.
 *
 * Pure: every function returns a new history and never mutates its input; a refused change
 * throws a GroupError and the caller keeps the old history. Knows nothing of storage, blobs or
 * sender keys.
 */
import { bytesEqual, toHex } from '../../codec/bytes';
import { applyActions, applyChange } from './apply-change';
import { groupFail, isGroupError, type GroupError } from './errors';
import { chooseChild, type Edge } from './fork-choice';
import { changeId, type GroupAction, type GroupChange } from './group-change';
import { stateHash } from './group-state-codec';
import type { GroupState } from './group-state';
import { HISTORY_DEPTH, MAX_HISTORY_CHANGES, MAX_ORPHANS } from './limits';

export interface GroupHistory {
  /** The oldest state kept; every other state descends from it by accepted changes. */
  readonly anchor: GroupState;
  /** Accepted changes (every branch), by id. */
  readonly edges: ReadonlyMap<string, Edge>;
  /** States by hash (hex), the anchor included. */
  readonly nodes: ReadonlyMap<string, GroupState>;
  /** Changes whose base state has not arrived, oldest first; unverified until it does. */
  readonly orphans: readonly GroupChange[];
  /** Ids of the changes from the anchor to the head, in order. */
  readonly canonical: readonly string[];
  readonly head: GroupState;
}

export type ReceiveStatus = 'applied' | 'duplicate' | 'pending';

export interface ReceiveResult {
  history: GroupHistory;
  /** applied: accepted into the tree (the head may or may not have moved); pending: waits for its base. */
  status: ReceiveStatus;
  /** Changes now on the path to the head that were not before, in order. */
  added: GroupChange[];
  /** Changes that were on the path to the head and no longer are (their authors should rebase them). */
  voided: GroupChange[];
}

const hex = (s: GroupState) => toHex(stateHash(s));

function childIndex(edges: ReadonlyMap<string, Edge>): Map<string, Edge[]> {
  const out = new Map<string, Edge[]>();
  for (const e of edges.values()) {
    const list = out.get(e.parent);
    if (list) list.push(e);
    else out.set(e.parent, [e]);
  }
  return out;
}

function walk(anchor: GroupState, edges: ReadonlyMap<string, Edge>, nodes: ReadonlyMap<string, GroupState>): { canonical: string[]; head: GroupState } {
  const children = childIndex(edges);
  const canonical: string[] = [];
  let key = hex(anchor);
  let state = anchor;
  for (let kids = children.get(key); kids && kids.length > 0; kids = children.get(key)) {
    const win = chooseChild(state, kids, children);
    canonical.push(win.id);
    key = win.child;
    state = nodes.get(key)!;
  }
  return { canonical, head: state };
}

/** A history that starts (and trusts) `anchor`: a genesis, or a state from an authenticated welcome. */
export function startHistory(anchor: GroupState): GroupHistory {
  const nodes = new Map([[hex(anchor), anchor]]);
  return { anchor, edges: new Map(), nodes, orphans: [], canonical: [], head: anchor };
}

interface Draft {
  anchor: GroupState;
  edges: Map<string, Edge>;
  nodes: Map<string, GroupState>;
  orphans: GroupChange[];
}

/** Adds an edge for `c` under `parent`; throws the applyChange refusal. */
function attach(d: Draft, parentKey: string, c: GroupChange, id: string): void {
  if (d.edges.size >= MAX_HISTORY_CHANGES) groupFail('InvalidAction', `history already holds ${MAX_HISTORY_CHANGES} changes`);
  const next = applyChange(d.nodes.get(parentKey)!, c);
  const childKey = hex(next);
  if (!d.nodes.has(childKey)) d.nodes.set(childKey, next);
  d.edges.set(id, { id, change: c, parent: parentKey, child: childKey });
}

/** Orphans whose base has arrived are tried now; a refused one is dropped (it was never valid). */
function adoptOrphans(d: Draft): void {
  for (let progress = true; progress; ) {
    progress = false;
    for (const o of d.orphans) {
      const key = toHex(o.baseHash);
      if (!d.nodes.has(key)) continue;
      d.orphans = d.orphans.filter((x) => x !== o);
      try {
        attach(d, key, o, changeId(o));
      } catch (e) {
        if (!isGroupError(e)) throw e;
      }
      progress = true;
      break;
    }
  }
}

function descendants(anchorKey: string, edges: ReadonlyMap<string, Edge>): Map<string, Edge> {
  const children = childIndex(edges);
  const out = new Map<string, Edge>();
  const stack = [anchorKey];
  while (stack.length > 0) {
    for (const e of children.get(stack.pop()!) ?? []) {
      if (out.has(e.id)) continue;
      out.set(e.id, e);
      stack.push(e.child);
    }
  }
  return out;
}

/** Moves the anchor up the canonical path so the head is at most HISTORY_DEPTH above it. */
function prune(d: Draft, canonical: string[], head: GroupState): string[] {
  const excess = head.version - d.anchor.version - HISTORY_DEPTH;
  if (excess <= 0) return canonical;
  const anchorKey = d.edges.get(canonical[excess - 1]!)!.child;
  d.anchor = d.nodes.get(anchorKey)!;
  d.edges = descendants(anchorKey, d.edges);
  const keep = new Set([anchorKey, ...[...d.edges.values()].map((e) => e.child)]);
  d.nodes = new Map([...d.nodes].filter(([k]) => keep.has(k)));
  d.orphans = d.orphans.filter((o) => o.baseVersion >= d.anchor.version);
  return canonical.slice(excess);
}

/**
 * Takes in one change. Refusals (a GroupError: not signed by a member, not allowed, rolled back
 * below the kept history, another group) leave the caller's history as it was.
 */
export function receiveChange(h: GroupHistory, c: GroupChange): ReceiveResult {
  const id = changeId(c);
  if (h.edges.has(id) || h.orphans.some((o) => changeId(o) === id)) return { history: h, status: 'duplicate', added: [], voided: [] };
  if (!bytesEqual(c.groupId, h.anchor.groupId)) groupFail('WrongGroup', 'change names another group');
  const d: Draft = { anchor: h.anchor, edges: new Map(h.edges), nodes: new Map(h.nodes), orphans: [...h.orphans] };
  const parentKey = toHex(c.baseHash);
  let status: ReceiveStatus;
  if (d.nodes.has(parentKey)) {
    attach(d, parentKey, c, id);
    adoptOrphans(d);
    status = 'applied';
  } else {
    if (c.baseVersion <= h.anchor.version) {
      groupFail('RolledBack', `base version ${c.baseVersion} is not above the kept history (from version ${h.anchor.version})`);
    }
    d.orphans.push(c);
    if (d.orphans.length > MAX_ORPHANS) d.orphans.shift();
    status = 'pending';
  }
  const walked = walk(d.anchor, d.edges, d.nodes);
  let common = 0;
  while (common < h.canonical.length && common < walked.canonical.length && h.canonical[common] === walked.canonical[common]) common++;
  const voided = h.canonical.slice(common).map((x) => h.edges.get(x)!.change);
  const added = walked.canonical.slice(common).map((x) => d.edges.get(x)!.change);
  const canonical = prune(d, walked.canonical, walked.head);
  const history: GroupHistory = { anchor: d.anchor, edges: d.edges, nodes: d.nodes, orphans: d.orphans, canonical, head: walked.head };
  return { history, status, added, voided };
}

/** Takes in several changes (a blob's log, a stored history): refusals are collected, not thrown. */
export function receiveChanges(h: GroupHistory, changes: readonly GroupChange[]): { history: GroupHistory; refused: { change: GroupChange; error: GroupError }[] } {
  const refused: { change: GroupChange; error: GroupError }[] = [];
  let history = h;
  for (const c of changes) {
    try {
      history = receiveChange(history, c).history;
    } catch (e) {
      if (!isGroupError(e)) throw e;
      refused.push({ change: c, error: e });
    }
  }
  return { history, refused };
}

/** The changes on the path from the anchor to the head, in order. */
export function canonicalChanges(h: GroupHistory): GroupChange[] {
  return h.canonical.map((id) => h.edges.get(id)!.change);
}

/** True when change `id` is on the path to the head. */
export function isCanonical(h: GroupHistory, id: string): boolean {
  return h.canonical.includes(id);
}

/**
 * The actions of a voided change that still apply at the head, in order, for its author to sign
 * again (createChange against h.head). An action that no longer applies — a member someone else
 * already added, a removal of someone who left, anything its author has lost the right to do —
 * is dropped; an empty result means nothing is left to do.
 */
export function rebaseActions(h: GroupHistory, c: GroupChange): GroupAction[] {
  const kept: GroupAction[] = [];
  let s = h.head;
  for (const a of c.actions) {
    try {
      s = applyActions(s, c.author, [a]);
      kept.push(a);
    } catch (e) {
      if (!isGroupError(e)) throw e;
    }
  }
  return kept;
}

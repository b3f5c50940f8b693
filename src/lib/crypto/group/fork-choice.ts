/**
 * Which of several concurrent changes wins (P19 convergence). Two admins who both write version
 * N+1 from N produce sibling changes; every member picks the same one with this rule, which
 * depends only on the set of changes received — never on arrival order — so members that have
 * received the same changes are in the same state.
 *
 * Among the children of one state, in order:
 *   1. Revocation wins: a child whose author is removed, demoted or leaves in a sibling's subtree
 *      loses to it (unless every child is struck so: then none is excluded). A member who was
 *      demoted at version d cannot undo it by writing a change against a state before d: that
 *      change is a sibling of the branch that demoted them.
 *   2. Support: the child whose subtree has the most distinct authors, so a branch that others
 *      have built on is not undone by one late change.
 *   3. Exclusions first: a child whose subtree removes, demotes or lets leave anyone beats one
 *      whose subtree does not, so a removal or a leave is not put off by an unrelated concurrent
 *      change (P21: the excluded member gets no new sender key meanwhile).
 *   4. Seniority in the parent state: admins before members before joiners, then the earliest
 *      joinedAt — not grindable, unlike a hash.
 *   5. The lowest change id.
 *
 * The losing children and their subtrees are voided, not merged: their authors see it (the
 * history reports voided changes) and write what still applies again against the new head
 * (rebaseActions in group-history.ts), as Signal's clients retry a group change the server
 * refused as stale. Knows nothing of storage or signatures.
 */
import { addressKey } from './address';
import type { GroupChange } from './group-change';
import { Role, findMember, type GroupState } from './group-state';

/** An accepted change as a tree edge: parent state hash -> child state hash (hex). */
export interface Edge {
  readonly id: string;
  readonly change: GroupChange;
  readonly parent: string;
  readonly child: string;
}

interface Subtree {
  authors: Set<string>;
  revoked: Set<string>;
}

/** Addresses a change takes rights from: removed, demoted, or its leaving author. */
function revokedBy(c: GroupChange): string[] {
  const out: string[] = [];
  for (const a of c.actions) {
    if (a.type === 'removeMember') out.push(addressKey(a.address));
    else if (a.type === 'setRole' && a.role === Role.member) out.push(addressKey(a.address));
    else if (a.type === 'leave') out.push(addressKey(c.author));
  }
  return out;
}

function subtree(root: Edge, children: ReadonlyMap<string, readonly Edge[]>): Subtree {
  const s: Subtree = { authors: new Set(), revoked: new Set() };
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    s.authors.add(addressKey(e.change.author));
    for (const r of revokedBy(e.change)) s.revoked.add(r);
    stack.push(...(children.get(e.child) ?? []));
  }
  return s;
}

function seniority(parent: GroupState, e: Edge): [number, number] {
  const m = findMember(parent, e.change.author);
  if (!m) return [2, 0];
  return [m.role === Role.admin ? 0 : 1, m.joinedAt];
}

/** The winning child of `parent` among `kids` (non-empty), by the rule in the module header. */
export function chooseChild(parent: GroupState, kids: readonly Edge[], children: ReadonlyMap<string, readonly Edge[]>): Edge {
  if (kids.length === 1) return kids[0]!;
  const subs = new Map(kids.map((k) => [k.id, subtree(k, children)]));
  const struck = (k: Edge) => kids.some((o) => o !== k && subs.get(o.id)!.revoked.has(addressKey(k.change.author)));
  const unstruck = kids.filter((k) => !struck(k));
  const pool = unstruck.length > 0 ? unstruck : [...kids];
  const key = (e: Edge) => ({ support: subs.get(e.id)!.authors.size, excludes: subs.get(e.id)!.revoked.size > 0 ? 1 : 0, rank: seniority(parent, e) });
  pool.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka.support !== kb.support) return kb.support - ka.support;
    if (ka.excludes !== kb.excludes) return kb.excludes - ka.excludes;
    if (ka.rank[0] !== kb.rank[0]) return ka.rank[0] - kb.rank[0];
    if (ka.rank[1] !== kb.rank[1]) return ka.rank[1] - kb.rank[1];
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return pool[0]!;
}

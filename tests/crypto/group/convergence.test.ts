import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { generateIdentity } from '../../../src/lib/crypto/identity';
import { toHex } from '../../../src/lib/codec/bytes';
import { applyChange } from '../../../src/lib/crypto/group/apply-change';
import { isGroupError } from '../../../src/lib/crypto/group/errors';
import { changeId, createChange, type GroupAction, type GroupChange } from '../../../src/lib/crypto/group/group-change';
import { Role, findMember, isAdmin, type GroupState } from '../../../src/lib/crypto/group/group-state';
import { stateHash } from '../../../src/lib/crypto/group/group-state-codec';
import { canonicalChanges, isCanonical, rebaseActions, receiveChange, receiveChanges, startHistory, type GroupHistory } from '../../../src/lib/crypto/group/group-history';
import { decodeGroupHistory, encodeGroupHistory } from '../../../src/lib/crypto/group/group-history-codec';
import { HISTORY_DEPTH } from '../../../src/lib/crypto/group/limits';
import { add, change, expectRefused, makeGroup, person, type Person } from './fixtures';
import { prng } from '../../support/prng';

const [ann, ben, cat, dan, eve] = ['ann', 'ben', 'cat', 'dan', 'eve'].map(person) as Person[] as [Person, Person, Person, Person, Person];
const outsiders = ['fay', 'gus', 'hal', 'ivy', 'jon'].map(person);
const headHash = (h: GroupHistory) => toHex(stateHash(h.head));

function deliverAll(h: GroupHistory, changes: readonly GroupChange[]): GroupHistory {
  let out = h;
  for (const c of changes) {
    try {
      out = receiveChange(out, c).history;
    } catch (e) {
      if (!isGroupError(e)) throw e;
    }
  }
  return out;
}

describe('P19 convergence of concurrent changes', () => {
  const base = makeGroup({ creator: ann, admins: [ben, cat], members: [dan] });

  test('two admins both write version N+1 from N: every member ends at the same head in either order', () => {
    const a = change(base, ann, add(eve));
    const b = change(base, ben, { type: 'setName', name: 'Rebels' });
    const h0 = startHistory(base);
    const ab = deliverAll(h0, [a, b]);
    const ba = deliverAll(h0, [b, a]);
    expect(headHash(ab)).toBe(headHash(ba));
    expect(ab.canonical).toEqual(ba.canonical);
    expect(ab.head.version).toBe(base.version + 1);
    // Seniority decides between two unrelated changes by admins: ann joined at 0, ben at 1.
    expect(isCanonical(ab, changeId(a))).toBe(true);
    // A member who applied b first sees it voided when a arrives, and what of it still applies.
    const r = receiveChange(receiveChange(h0, b).history, a);
    expect(r.voided).toEqual([b]);
    expect(r.added).toEqual([a]);
    expect(rebaseActions(r.history, b)).toEqual(b.actions);
    // ben writes it again against the new head; everyone converges with both applied.
    const again = change(r.history.head, ben, ...rebaseActions(r.history, b));
    const final = deliverAll(ab, [again]);
    expect(final.head).toMatchObject({ name: 'Rebels', version: base.version + 2 });
    expect(findMember(final.head, eve.address)).toBeDefined();
  });

  test('revocation wins: ann demotes ben while ben removes dan; ben\'s change is voided even though ben is the senior author', () => {
    const g = makeGroup({ creator: ben, admins: [ann], members: [dan] });
    const demote = change(g, ann, { type: 'setRole', address: ben.address, role: Role.member });
    const removal = change(g, ben, { type: 'removeMember', address: dan.address });
    for (const order of [[demote, removal], [removal, demote]]) {
      const h = deliverAll(startHistory(g), order);
      expect(isCanonical(h, changeId(demote))).toBe(true);
      expect(findMember(h.head, dan.address)).toBeDefined();
      expect(isAdmin(h.head, ben.address)).toBe(false);
      expect(rebaseActions(h, removal)).toEqual([]); // ben may no longer remove anyone
    }
  });

  test('P19 a demoted admin writing against a state from before the demotion gets nothing applied, even as the senior admin', () => {
    // ben created the group (most senior); ann demotes him and goes on alone, so neither support
    // nor seniority protects her branch: only "revocation wins" does.
    const g = makeGroup({ creator: ben, admins: [ann, cat], members: [dan] });
    let h = startHistory(g);
    const demote = change(g, ann, { type: 'setRole', address: ben.address, role: Role.member });
    h = receiveChange(h, demote).history;
    h = receiveChange(h, change(h.head, ann, { type: 'setName', name: 'Later' })).history;
    // ben back-dates a removal of cat to the state where he was still admin.
    const backdated = change(g, ben, { type: 'removeMember', address: cat.address });
    const r = receiveChange(h, backdated);
    expect(r.status).toBe('applied'); // a valid change against its own base: kept in the tree...
    expect(r.history.canonical).toEqual(h.canonical); // ...but it loses the fork choice
    expect(findMember(r.history.head, cat.address)).toBeDefined();
    expect(r.voided).toEqual([]);
    expect(deliverAll(startHistory(g), [backdated, ...canonicalChanges(h)]).canonical).toEqual(h.canonical);
  });

  test('support: a branch other members built on is not undone by a late change from the senior admin', () => {
    const bChange = change(base, ben, { type: 'setName', name: 'B' });
    let h = receiveChange(startHistory(base), bChange).history;
    const onB1 = change(h.head, cat, { type: 'setDescription', description: 'cat was here' });
    h = receiveChange(h, onB1).history;
    const late = change(base, ann, add(eve)); // ann is most senior, but alone on her branch
    const r = receiveChange(h, late);
    expect(r.history.canonical).toEqual(h.canonical);
    expect(deliverAll(startHistory(base), [late, onB1, bChange]).canonical).toEqual(h.canonical);
  });

  test('P21 an exclusion is not put off by an unrelated concurrent change, even from a more senior admin', () => {
    const g = makeGroup({ creator: ben, admins: [ann], members: [dan] });
    const rename = change(g, ben, { type: 'setName', name: 'Renamed' });
    const removal = change(g, ann, { type: 'removeMember', address: dan.address });
    for (const order of [[rename, removal], [removal, rename]]) {
      const h = deliverAll(startHistory(g), order);
      expect(h.canonical).toEqual([changeId(removal)]);
      expect(findMember(h.head, dan.address)).toBeUndefined();
    }
  });

  test('a change that arrives before its base waits, and applies when the base arrives', () => {
    const c1 = change(base, ann, add(eve));
    const s1 = applyChange(base, c1);
    const c2 = change(s1, ben, { type: 'setName', name: 'Two' });
    const r = receiveChange(startHistory(base), c2);
    expect(r.status).toBe('pending');
    expect(r.history.head).toBe(base);
    const r2 = receiveChange(r.history, c1);
    expect(r2.status).toBe('applied');
    expect(r2.added).toEqual([c1, c2]);
    expect(r2.history.orphans).toEqual([]);
    expect(receiveChange(r2.history, c2).status).toBe('duplicate');
    expect(receiveChange(r.history, c2).status).toBe('duplicate');
  });

  test('P19 a forged change and a non-admin\'s admin change are refused and never enter the history', () => {
    const h = startHistory(base);
    const forged = createChange({ base, author: ann.address, authorIdentity: generateIdentity(seededDeps('host')), actions: [add(eve)] });
    expect(() => receiveChange(h, forged)).toThrow(/InvalidSignature/);
    expect(() => receiveChange(h, change(base, dan, { type: 'removeMember', address: ben.address }))).toThrow(/NotAdmin/);
    // An orphan forged by the host waits unverified, then is dropped when its base arrives.
    const c1 = change(base, ann, { type: 'setName', name: 'one' });
    const s1 = applyChange(base, c1);
    const forgedChild = createChange({ base: s1, author: ben.address, authorIdentity: generateIdentity(seededDeps('host2')), actions: [add(eve)] });
    const pending = receiveChange(h, forgedChild);
    expect(pending.status).toBe('pending');
    const done = receiveChange(pending.history, c1).history;
    expect(done.edges.size).toBe(1);
    expect(done.orphans).toEqual([]);
    expect(findMember(done.head, eve.address)).toBeUndefined();
  });

  test(`P19 the history keeps ${HISTORY_DEPTH} versions; a change based below them is refused as RolledBack`, () => {
    let h = startHistory(base);
    const first = h.head;
    for (let i = 0; i < HISTORY_DEPTH + 5; i++) h = receiveChange(h, change(h.head, ann, { type: 'setName', name: `n${i}` })).history;
    expect(h.head.version).toBe(base.version + HISTORY_DEPTH + 5);
    expect(h.anchor.version).toBe(h.head.version - HISTORY_DEPTH);
    expect(h.canonical).toHaveLength(HISTORY_DEPTH);
    const old = change(first, ben, add(eve));
    expect(() => receiveChange(h, old)).toThrow(/RolledBack/);
    const atAnchor = change({ ...h.anchor, name: 'forked anchor' }, ben, add(eve));
    expect(() => receiveChange(h, atAnchor)).toThrow(/RolledBack/);
  });

  test('a stored history (with a waiting orphan) decodes to the same head, path and orphans', () => {
    const a = change(base, ann, add(eve));
    const b = change(base, ben, { type: 'setName', name: 'B' });
    let h = deliverAll(startHistory(base), [a, b]);
    const s2 = applyChange(applyChange(base, a), change(applyChange(base, a), cat, { type: 'setName', name: 'x' }));
    const orphan = change(s2, ann, { type: 'setDescription', description: 'later' });
    h = receiveChange(h, orphan).history;
    const back = decodeGroupHistory(encodeGroupHistory(h, { orphans: true }));
    expect(headHash(back)).toBe(headHash(h));
    expect(back.canonical).toEqual(h.canonical);
    expect(back.edges.size).toBe(2);
    expect(back.orphans.map(changeId)).toEqual([changeId(orphan)]);
    expect(decodeGroupHistory(encodeGroupHistory(h)).orphans).toEqual([]);
  });

  test('receiveChanges merges a log and reports refusals without throwing', () => {
    const good = change(base, ann, add(eve));
    const bad = change(base, dan, add(outsiders[0]!));
    const { history, refused } = receiveChanges(startHistory(base), [bad, good]);
    expect(canonicalChanges(history)).toEqual([good]);
    expect(refused.map((r) => r.error.code)).toEqual(['NotPermitted']);
  });
});

// ---- the model: several admins change the group concurrently, delivery is arbitrary ----


function shuffle<T>(xs: T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const PARTICIPANTS = [ann, ben, cat, dan, eve];
const OPS = ['add', 'remove', 'leave', 'promote', 'demote', 'rename', 'forge', 'host'] as const;

interface Step {
  who: number;
  op: (typeof OPS)[number];
  target: number;
  /** Bit i: participant i gets a random part of what is in flight right after this step. */
  deliverMask: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  who: fc.nat(PARTICIPANTS.length - 1),
  op: fc.constantFrom(...OPS),
  target: fc.nat(9),
  deliverMask: fc.nat(31)
});

function actionFor(step: Step, head: GroupState, author: Person): GroupAction | undefined {
  const others = head.members.filter((m) => m.address.username !== author.name);
  const pick = <T>(xs: readonly T[]) => (xs.length === 0 ? undefined : xs[step.target % xs.length]);
  switch (step.op) {
    case 'add': {
      const p = pick(outsiders.filter((o) => !findMember(head, o.address)));
      return p && add(p, step.target % 3 === 0 ? Role.admin : Role.member);
    }
    case 'remove': {
      const m = pick(others);
      return m && { type: 'removeMember', address: m.address };
    }
    case 'leave':
      return { type: 'leave' };
    case 'promote': {
      const m = pick(others.filter((x) => x.role === Role.member));
      return m && { type: 'setRole', address: m.address, role: Role.admin };
    }
    case 'demote': {
      const m = pick(head.members.filter((x) => x.role === Role.admin));
      return m && { type: 'setRole', address: m.address, role: Role.member };
    }
    default:
      return { type: 'setName', name: `name ${step.target}` };
  }
}

describe('P19 convergence model (fast-check)', () => {
  const genesis = makeGroup({ creator: ann, admins: [ben, cat], members: [dan, eve] });
  const hostIdentity = generateIdentity(seededDeps('model-host'));

  test('P19 random concurrent adds, removes, leaves and promotes by several admins, delivered in any order with duplicates: every member ends in the same state, and no forged or unauthorised change is ever applied', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 14 }), fc.integer(), (steps, seed) => {
        const rand = prng(seed);
        const views = new Map(PARTICIPANTS.map((p) => [p.name, startHistory(genesis)]));
        const emitted: GroupChange[] = [];
        const mustNeverApply = new Set<string>();
        const receive = (name: string, c: GroupChange) => {
          try {
            views.set(name, receiveChange(views.get(name)!, c).history);
          } catch (e) {
            if (!isGroupError(e)) throw e;
          }
        };
        const author = (p: Person, c: GroupChange) => {
          receive(p.name, c);
          emitted.push(c);
        };
        for (const step of steps) {
          const p = PARTICIPANTS[step.who]!;
          const head = views.get(p.name)!.head;
          if (step.op === 'forge' || step.op === 'host') {
            // The host (or anyone without the key) signs as an admin, or as itself.
            const who = step.op === 'forge' ? ann.address : outsiders[step.target % outsiders.length]!.address;
            const c = createChange({ base: head, author: who, authorIdentity: hostIdentity, actions: [add(outsiders[step.target % outsiders.length]!, Role.admin)] });
            mustNeverApply.add(changeId(c));
            emitted.push(c);
          } else {
            const action = actionFor(step, head, p);
            if (action) {
              const c = change(head, p, action);
              let valid = true;
              try {
                applyChange(head, c);
              } catch (e) {
                if (!isGroupError(e)) throw e;
                valid = false; // e.g. a member removing someone: refused everywhere, never applied
              }
              if (!valid) mustNeverApply.add(changeId(c));
              author(p, c);
            }
          }
          PARTICIPANTS.forEach((q, i) => {
            if (!(step.deliverMask & (1 << i))) return;
            for (const c of shuffle(emitted, rand)) if (rand() < 0.5) receive(q.name, c);
          });
        }
        const settle = () => {
          for (const q of PARTICIPANTS) {
            const doubled = shuffle([...emitted, ...emitted.filter(() => rand() < 0.3)], rand);
            for (const c of doubled) receive(q.name, c);
          }
          const heads = new Set(PARTICIPANTS.map((q) => headHash(views.get(q.name)!)));
          expect(heads.size, 'members disagree on the head').toBe(1);
          const paths = new Set(PARTICIPANTS.map((q) => views.get(q.name)!.canonical.join(',')));
          expect(paths.size).toBe(1);
          for (const q of PARTICIPANTS) {
            const h = views.get(q.name)!;
            for (const id of mustNeverApply) expect(h.edges.has(id), 'an unauthorised change entered a history').toBe(false);
            // Every step from the anchor to the head is a change its author was allowed to make.
            let s = h.anchor;
            for (const c of canonicalChanges(h)) s = applyChange(s, c);
            expect(toHex(stateHash(s))).toBe(headHash(h));
          }
        };
        settle();
        // Authors write again what of their voided changes still applies; everyone converges again.
        const snapshot = new Map(views);
        for (const p of PARTICIPANTS) {
          const h = snapshot.get(p.name)!;
          if (!findMember(h.head, p.address)) continue;
          const mine = emitted.filter((c) => c.author.username === p.name && !mustNeverApply.has(changeId(c)) && !isCanonical(h, changeId(c)) && h.edges.has(changeId(c)));
          for (const c of mine) {
            const actions = rebaseActions(views.get(p.name)!, c);
            if (actions.length > 0) author(p, change(views.get(p.name)!.head, p, ...actions));
          }
        }
        settle();
      }),
      { numRuns: 80 }
    );
  });
});

test('the model\'s refusal helper sees refusals (sanity)', () => {
  const g = makeGroup({ creator: ann, members: [dan] });
  expectRefused('NotAdmin', () => applyChange(g, change(g, dan, { type: 'removeMember', address: ann.address })), g);
});

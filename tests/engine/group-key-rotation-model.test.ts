/**
 * Master key rotation under random membership churn (workers/engine/group-key-epochs.ts; README
 * "Groups": master key rotation; P19): seeded runs of removals, re-adds, leaves and renames by
 * several admins, some of them offline while others act, ending with a leave. Once every member
 * has acted (paying any key it owes) and everything is delivered, every member holds the same master key, the state
 * blob under it names the last name, and no key any former member holds opens that name.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import { openStateBlob } from '../../src/lib/crypto/group/state-blob';
import { MemoryHost } from '../../workers/engine/memory-host';
import { blobKey } from '../../workers/engine/group-key-epochs';
import { getGroup } from '../../workers/storage/group-repo';
import { closeAll, newUsers, settle, type User } from './support';
import { prng } from '../support/prng';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});


async function keyOf(u: User, id: string): Promise<string | undefined> {
  const g = await getGroup(u.engine.ctx.vault, id);
  return g && toHex(blobKey(g));
}

const memberNames = async (u: User, id: string) => (await u.engine.groupInfo(id)).members.map((m) => String(m.username));

describe('P19 master key rotation under churn', () => {
  test.each([1, 2, 3, 4, 5, 6])('seed %i: all members end on one key; no former member reads the last name', async (seed) => {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const host = new MemoryHost();
    const users = await newUsers(host, 'ann', 'ben', 'cat', 'dan', 'eve');
    open.push(...users);
    const byName = new Map(users.map((u) => [u.name, u]));
    const [ann, ben] = users as [User, User];
    const id = await ann.engine.createGroup('Start', '', ['ben', 'cat', 'dan', 'eve']);
    await settle(...users);
    await ann.engine.setGroupRole(id, 'ben', 'admin');
    await settle(...users);
    for (const u of users) for (const v of users) if (u !== v) await u.engine.lookupUser(v.name);
    const formerKeys = new Map<string, Set<string>>();
    let name = 'Start';
    for (let step = 0; step < 10; step++) {
      // Someone may be away for this step: what is sent to them waits on the host.
      const away = rnd() < 0.4 ? pick(users.slice(2)) : undefined;
      if (away) await away.engine.disconnect();
      const admin = pick([ann, ben]);
      const members = await memberNames(admin, id);
      const others = users.filter((u) => u !== admin && u !== ben && u !== ann);
      const r = rnd();
      try {
        if (r < 0.35) {
          const target = pick(others.filter((u) => members.includes(u.name)).concat([]));
          if (target) await admin.engine.removeGroupMember(id, target.name);
        } else if (r < 0.6) {
          const back = others.filter((u) => !members.includes(u.name));
          if (back.length > 0) await admin.engine.addGroupMembers(id, [pick(back).name]);
        } else if (r < 0.8) {
          const leaver = pick(others.filter((u) => members.includes(u.name) && u !== away));
          if (leaver) await leaver.engine.leaveGroup(id);
        } else {
          name = `Name ${seed}.${step}`;
          await admin.engine.editGroupInfo(id, { name });
        }
      } catch {
        // a change that no longer applies on this admin's head (it is behind): skipped
      }
      await settle(...users.filter((u) => u !== away));
      if (away) await away.engine.connect();
      await settle(...users);
      // Whoever is out now keeps the key it has: remember it.
      const now = await memberNames(ann, id);
      for (const u of users) {
        if (now.includes(u.name)) continue;
        const k = await keyOf(u, id);
        if (k) formerKeys.set(u.name, (formerKeys.get(u.name) ?? new Set()).add(k));
      }
    }
    // The last exclusion is always a leave, whose key only the first admin can make: someone
    // (added back if need be) leaves, and keeps the key it had.
    const leaver = pick(users.slice(2));
    if (!(await memberNames(ann, id)).includes(leaver.name)) await ann.engine.addGroupMembers(id, [leaver.name]);
    await settle(...users);
    const kept = (await keyOf(leaver, id))!;
    await leaver.engine.leaveGroup(id);
    await settle(...users);
    formerKeys.set(leaver.name, (formerKeys.get(leaver.name) ?? new Set()).add(kept));
    // Every member acts once (the leave's admin pays its key), then a last rename.
    const final = await memberNames(ann, id);
    for (const n of final) await byName.get(n)!.engine.sendGroupText(id, `from ${n}`);
    await settle(...users);
    await settle(...users);
    name = `Final ${seed}`;
    await ann.engine.editGroupInfo(id, { name });
    await settle(...users);
    await settle(...users);
    const keys = new Set(await Promise.all(final.map((n) => keyOf(byName.get(n)!, id))));
    expect(keys.size).toBe(1);
    const [key] = [...keys] as [string];
    const readable = (k: string) =>
      [...host.groupBlobs.values()].some(({ sealed }) => {
        try {
          return openStateBlob(sealed, fromHex(k), fromHex(id)).changes.some((c) => c.actions.some((a) => a.type === 'setName' && a.name === name));
        } catch {
          return false;
        }
      });
    expect(readable(key)).toBe(true);
    for (const [who, ks] of formerKeys) if (!final.includes(who)) for (const k of ks) expect(readable(k), `${who} reads the last name`).toBe(false);
  }, 120_000);
});

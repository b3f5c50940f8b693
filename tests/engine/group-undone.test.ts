/**
 * Our group changes undone by a simultaneous change (workers/engine/group-undone.ts; README
 * "Groups"; SECURITY.md P19): two admins, each offline, add a different person at the same time.
 * The fork choice keeps one branch everywhere; the other admin's add is voided. Its author is told
 * in the conversation (never re-signed automatically: a received change makes nobody write), and
 * "Try again" adds the person through an ordinary change, after which all converge. An undone
 * change that someone else already did leaves nothing to retry and no notice.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUsers, settle, type User } from './support';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { getGroup } from '../../workers/storage/group-repo';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const members = async (u: User, id: string): Promise<string[]> => (await u.engine.groupInfo(id)).members.map((m) => String(m.username)).sort();
const undoneNotices = async (u: User, id: string) =>
  (await u.engine.listGroupMessages(id)).flatMap((m: GroupMessageView) => (m.kind === 'notice' && m.notice === 'undone' ? [m.text ?? ''] : []));

/** ann and ben admins of a group with cat; both go offline. */
async function twoAdmins() {
  const host = new MemoryHost();
  const users = await newUsers(host, 'ann', 'ben', 'cat', 'dan', 'eve');
  open.push(...users);
  const [ann, ben, cat, dan, eve] = users as [User, User, User, User, User];
  const id = await ann.engine.createGroup('Trip', '', ['ben', 'cat']);
  await settle(...users);
  await ann.engine.setGroupRole(id, 'ben', 'admin');
  await settle(...users);
  // Both know everyone they will add (so the adds need no lookup while offline).
  for (const u of [ann, ben]) for (const who of ['dan', 'eve']) await u.engine.lookupUser(who);
  await ann.engine.disconnect();
  await ben.engine.disconnect();
  /** Each admin makes its change offline, then both come back and everything is delivered. */
  const atOnce = async (annDoes: (e: User['engine']) => Promise<unknown>, benDoes: (e: User['engine']) => Promise<unknown>) => {
    await annDoes(ann.engine);
    await benDoes(ben.engine);
    await ann.engine.connect();
    await ben.engine.connect();
    await settle(...users);
    await settle(...users);
  };
  return { host, users, id, ann, ben, cat, dan, eve, atOnce };
}

describe('P19 group changes undone by a simultaneous change', () => {
  test('two admins add different people at once: the loser is told, "Try again" adds the person, everyone converges', async () => {
    const { users, id, ann, ben, cat, dan, eve, atOnce } = await twoAdmins();
    await atOnce((e) => e.addGroupMembers(id, ['dan']), (e) => e.addGroupMembers(id, ['eve']));
    const heads = await Promise.all([ann, ben, cat].map((u) => members(u, id)));
    expect(new Set(heads.map((h) => h.join()))).toEqual(new Set([heads[0]!.join()]));
    // Exactly one of the two adds is on the path to the head.
    const kept = heads[0]!.includes('dan') ? 'dan' : 'eve';
    const lost = kept === 'dan' ? 'eve' : 'dan';
    const [winner, loser] = kept === 'dan' ? [ann, ben] : [ben, ann];
    expect(heads[0]).not.toContain(lost);
    expect(await undoneNotices(loser, id)).toEqual([`adding ${lost}`]);
    expect(await undoneNotices(winner, id)).toEqual([]);
    // The "joined" the loser had shown no longer holds, and the log says so.
    const notices = async (u: User) => (await u.engine.listGroupMessages(id)).flatMap((m: GroupMessageView) => (m.kind === 'notice' ? [`${m.notice}:${m.who}`] : []));
    expect(await notices(loser)).toEqual(expect.arrayContaining([`joined:${lost}`, `unjoined:${lost}`]));
    expect(await notices(winner)).not.toContain(`unjoined:${lost}`);
    expect((await loser.engine.groupInfo(id)).undone).toBe(`adding ${lost}`);
    expect((await winner.engine.groupInfo(id)).undone).toBeUndefined();
    // Nothing was re-signed by itself: the head still lacks the lost person.
    expect(await members(cat, id)).not.toContain(lost);

    await loser.engine.answerUndoneGroupChanges(id, 'retry');
    await settle(...users);
    await settle(...users);
    for (const u of [ann, ben, cat, dan, eve]) expect(await members(u, id)).toEqual(['ann', 'ben', 'cat', 'dan', 'eve']);
    // And the group works for the one added again: a message from the winner reaches them.
    await winner.engine.sendGroupText(id, 'welcome both');
    await settle(...users);
    const lostUser = lost === 'dan' ? dan : eve;
    expect((await lostUser.engine.listGroupMessages(id)).some((m) => m.kind === 'text' && m.text === 'welcome both')).toBe(true);
    expect((await loser.engine.groupInfo(id)).undone).toBeUndefined();
    expect((await getGroup(loser.engine.ctx.vault, id))!.undone).toBeUndefined();
    // The notice stays in the conversation, as other notices do.
    expect(await undoneNotices(loser, id)).toEqual([`adding ${lost}`]);
  });

  test('a rename voided by a simultaneous add: the name is back, the log says so, and the rename is offered again', async () => {
    const { users, id, ann, ben, cat, atOnce } = await twoAdmins();
    await atOnce((e) => e.addGroupMembers(id, ['dan']), (e) => e.editGroupInfo(id, { name: 'Trip to the sea' }));
    // Ann is the senior admin: her branch wins, so Ben's rename is undone.
    for (const u of [ann, ben, cat]) expect((await u.engine.groupInfo(id)).name).toBe('Trip');
    const log = (await ben.engine.listGroupMessages(id)).flatMap((m: GroupMessageView) => (m.kind === 'notice' ? [`${m.notice}:${m.text ?? ''}`] : []));
    expect(log).toEqual(expect.arrayContaining(['renamed:Trip to the sea', 'name-reverted:Trip', 'undone:renaming the group to “Trip to the sea”']));
    await ben.engine.answerUndoneGroupChanges(id, 'retry');
    await settle(...users);
    for (const u of [ann, ben, cat]) expect((await u.engine.groupInfo(id)).name).toBe('Trip to the sea');
    expect(await members(ann, id)).toEqual(['ann', 'ben', 'cat', 'dan']);
  });

  test('"Dismiss" forgets an undone change: nothing is sent, the notice stays', async () => {
    const { host, users, id, ann, ben, atOnce } = await twoAdmins();
    await atOnce((e) => e.addGroupMembers(id, ['dan']), (e) => e.addGroupMembers(id, ['eve']));
    const loser = (await ann.engine.groupInfo(id)).undone ? ann : ben;
    const sent = host.sent.length;
    await loser.engine.answerUndoneGroupChanges(id, 'dismiss');
    await settle(...users);
    expect(host.sent.slice(sent).filter((x) => x.from === loser.name)).toEqual([]);
    expect((await loser.engine.groupInfo(id)).undone).toBeUndefined();
    expect(await undoneNotices(loser, id)).toHaveLength(1);
  });

  test('an undone change someone else already made leaves nothing to retry and no notice', async () => {
    const { id, ann, ben, cat, atOnce } = await twoAdmins();
    await atOnce((e) => e.addGroupMembers(id, ['dan']), (e) => e.addGroupMembers(id, ['dan']));
    for (const u of [ann, ben, cat]) expect(await members(u, id)).toEqual(['ann', 'ben', 'cat', 'dan']);
    for (const u of [ann, ben]) {
      expect(await undoneNotices(u, id)).toEqual([]);
      expect((await u.engine.groupInfo(id)).undone).toBeUndefined();
    }
  });
});

/**
 * Blocking a member of a shared group (README "Groups": blocking; SECURITY.md P42, P43), through
 * engines on the REAL host (src/host/server.ts on loopback). As Signal (Android
 * RecipientUtil.getEligibleForSending, Desktop getSendRecipientLists), a blocked member is left out
 * of OUR group sends: their messages are dropped on arrival, and ours no longer go to them, the
 * same whether or not they already held our sender key. The message counts its receipts over the
 * members it went to; the sender key is rotated past the blocked member (P21-style: a key they
 * hold opens nothing sent after the block, even if a host copied them the upload). Unblocking
 * gives them our current key with our next message. Their group messages to us are dropped, as a
 * 1:1 envelope from them is, with no gap shown once unblocked.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { Engine } from '../../workers/engine/engine';
import { getGroup } from '../../workers/storage/group-repo';
import type { Username } from '../../src/lib/codec/username';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { enginesOnRealHost, eventually } from './real-host-support';

const { user: person } = enginesOnRealHost('parley-gblock-');

type Text = Extract<GroupMessageView, { kind: 'text' }>;
const texts = async (e: Engine, id: string) => (await e.listGroupMessages(id)).filter((x): x is Text => x.kind === 'text').map((m) => m.text);
const mine = async (e: Engine, id: string, body: string): Promise<Text> => {
  const m = (await e.listGroupMessages(id)).find((x): x is Text => x.kind === 'text' && x.text === body);
  if (!m) throw new Error(`no "${body}"`);
  return m;
};
const failures = async (e: Engine) => (await e.ctx.vault.db.getAll('failures')).map((f) => f.code);

/** Ann (admin) with Ben and Cat; each has sent once, so everyone holds everyone's sender key. */
async function group() {
  const [ann, ben, cat] = [await person('ann'), await person('ben'), await person('cat')];
  const id = await ann.createGroup('Climbing', '', ['ben', 'cat']);
  for (const p of [ben, cat]) await eventually(async () => expect((await p.groupInfo(id)).members).toHaveLength(3));
  for (const [p, body] of [[ann, 'a1'], [ben, 'b1'], [cat, 'c1']] as const) await p.sendGroupText(id, body);
  for (const p of [ann, ben, cat]) await eventually(async () => expect((await texts(p, id)).sort()).toEqual(['a1', 'b1', 'c1']));
  return { id, ann, ben, cat };
}

describe('blocking a member of a shared group (real host)', () => {
  test('P42 after Ben blocks Ann, his group messages go to the others only, and to Ann again once unblocked', async () => {
    const { id, ann, ben, cat } = await group();
    await ben.block('ann' as Username);
    await ben.sendGroupText(id, 'b2');
    await eventually(async () => expect(await texts(cat, id)).toContain('b2'));
    // Counted over the members it went to: Cat only, delivered.
    await eventually(async () => expect((await mine(ben, id, 'b2')).receipts).toMatchObject({ of: 1, delivered: 1 }));
    // A marker from Cat after Ben's message: once Ann has it, anything for her from Ben is in too.
    await cat.sendGroupText(id, 'c2');
    await eventually(async () => expect(await texts(ann, id)).toContain('c2'));
    expect(await texts(ann, id)).not.toContain('b2');
    expect(await failures(ann)).toEqual([]);
    // The key Ann holds opens nothing Ben sends now: his key was rotated past her.
    const benKey = (await getGroup(ben.ctx.vault, id))!;
    expect(benKey.distributedTo.sort()).toEqual(['cat']);
    // Ann's messages to the group reach Cat but Ben drops them (blocking stops theirs to us).
    await ann.sendGroupText(id, 'a2');
    await eventually(async () => expect(await texts(cat, id)).toContain('a2'));
    await cat.sendGroupText(id, 'c3');
    await eventually(async () => expect(await texts(ben, id)).toContain('c3'));
    expect(await texts(ben, id)).not.toContain('a2');
    expect(await failures(ben)).toEqual([]);
    await ben.unblock('ann' as Username);
    // Unblocked: Ann's next message shows, with no gap for the one dropped while blocked.
    await ann.sendGroupText(id, 'a3');
    await eventually(async () => expect(await texts(ben, id)).toContain('a3'));
    expect((await ben.listGroupMessages(id)).some((m) => m.kind === 'notice' && m.notice === 'gap')).toBe(false);
    await ben.sendGroupText(id, 'b3');
    await eventually(async () => expect(await texts(ann, id)).toContain('b3'));
    expect(await texts(ann, id)).not.toContain('b2');
    await eventually(async () => expect((await mine(ben, id, 'b3')).receipts).toMatchObject({ of: 2, delivered: 2 }));
  });

  test('P42 a block before Ben ever wrote to the group: Ann gets nothing to fail on, and no key', async () => {
    const [ann, ben, cat] = [await person('ann'), await person('ben'), await person('cat')];
    const id = await ann.createGroup('Climbing', '', ['ben', 'cat']);
    for (const p of [ben, cat]) await eventually(async () => expect((await p.groupInfo(id)).members).toHaveLength(3));
    await ben.block('ann' as Username);
    await ben.sendGroupText(id, 'b1');
    await eventually(async () => expect(await texts(cat, id)).toContain('b1'));
    await eventually(async () => expect(await ben.ctx.vault.db.count('outbox')).toBe(0));
    await cat.sendGroupText(id, 'c1');
    await eventually(async () => expect(await texts(ann, id)).toContain('c1'));
    expect(await texts(ann, id)).not.toContain('b1');
    // Before: the upload still named Ann, who had no key for it (NoSenderKey, a state sync).
    expect(await failures(ann)).toEqual([]);
    expect((await mine(ben, id, 'b1')).receipts).toMatchObject({ of: 1 });
  });
});

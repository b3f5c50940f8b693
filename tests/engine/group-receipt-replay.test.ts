/**
 * Group receipts under a replaying host (README "Groups": receipts per member). The host hands a
 * member the same group message again, and the sender the same receipt envelope again: a
 * duplicate group message is refused by the sender-key chain, so no second delivery receipt
 * leaves; a replayed receipt is a ratchet duplicate (P13) and moves nothing.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import type { Envelope } from '../../workers/engine/transport';
import { asUsername } from '../../src/lib/codec/username';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

type Text = Extract<GroupMessageView, { kind: 'text' }>;
const receipts = async (u: User, id: string) => (await u.engine.listGroupMessages(id)).find((m): m is Text => m.kind === 'text' && m.direction === 'out')!.receipts!;

describe('group receipts under replay', () => {
  test('P13 a replayed group message sends no second receipt; a replayed receipt moves nothing', async () => {
    const host = new MemoryHost();
    const [ann, ben, cat] = [await newUser(host, 'ann'), await newUser(host, 'ben'), await newUser(host, 'cat')];
    open.push(ann, ben, cat);
    const id = await ann.engine.createGroup('Climbing', '', ['ben', 'cat']);
    await settle(ann, ben, cat);
    // Ann is a stranger to them: each accepts the group request (P42) so receipts flow.
    for (const p of [ben, cat]) await p.engine.answerGroupRequest(id, 'accept');
    await settle(ann, ben, cat);
    await ann.engine.sendGroupText(id, 'hello');
    await settle(ann, ben, cat);
    expect(await receipts(ann, id)).toMatchObject({ delivered: 2, read: 0, of: 2 });
    const fromBen = () => host.sent.filter((s) => s.from === 'ben');
    const before = fromBen().length;
    const deliveredEnv = fromBen().at(-1)!;

    // The host hands Ben Ann's group message twice more: stored once, no further receipt.
    const upload = host.groupUploads.at(-1)!;
    const replay: Envelope = { serverId: 'replayed-g1', sender: asUsername('ann'), body: upload.body, receivedAt: Date.now() };
    host.deliverTo(asUsername('ben'), replay);
    host.deliverTo(asUsername('ben'), { ...replay, serverId: 'replayed-g2' });
    await settle(ann, ben, cat);
    expect(fromBen()).toHaveLength(before);
    expect((await ben.engine.listGroupMessages(id)).filter((m) => m.kind === 'text')).toHaveLength(1);

    // Ben reads (one read receipt); then the host replays Ben's earlier delivery receipt and the read one.
    await ben.engine.markGroupRead(id);
    await settle(ann, ben, cat);
    expect(await receipts(ann, id)).toMatchObject({ delivered: 2, read: 1, of: 2 });
    const readEnv = fromBen().at(-1)!;
    for (const [i, s] of [deliveredEnv, readEnv].entries()) {
      host.deliverTo(asUsername('ann'), { serverId: `replayed-r${i}`, sender: asUsername('ben'), body: s.body, receivedAt: Date.now() });
    }
    await settle(ann, ben, cat);
    const after = await receipts(ann, id);
    expect(after).toMatchObject({ delivered: 2, read: 1, of: 2 });
    expect(after.members.find((m) => m.username === 'ben')!.state).toBe('read');
  });
});

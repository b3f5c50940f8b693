/**
 * Forged message actions in groups (README "Groups": message actions; SECURITY.md P47, P19, P21)
 * through engines on the REAL host: modified clients send edits, deletes and reactions under their
 * real sender keys (or old ones), and the host relabels a sender; every receiver refuses what the
 * rules forbid. Each test ends with a real marker from the same sender: once it is shown, the
 * forgeries before it were processed.
 */
import { describe, expect, test } from 'vitest';
import { encodeContent } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import type { Username } from '../../src/lib/codec/username';
import { receiveGroupEnvelope } from '../../workers/engine/group-messages';
import { getGroup } from '../../workers/storage/group-repo';
import { addOutbox } from '../../workers/storage/outbox-repo';
import { commit } from '../../workers/storage/vault';
import { eventually } from './real-host-support';
import { contentId, forge, groupActionHost, textOf } from './group-actions-support';

const { trio } = groupActionHost('parley-gactions-forged-');

describe('forged message actions in groups', () => {
  test('P47 a member cannot edit or delete another member’s message, not even an admin; the host cannot relabel an action', async () => {
    const { id, ann, ben, cat } = await trio();
    const benMsg = contentId((await textOf(ann, id, 'from ben')).id);
    // Ann (admin) names Ben's message in an edit and a delete, with and without an author.
    await forge(ann, id, { kind: 'edit', target: benMsg, sentAt: Date.now(), text: 'rewritten by ann' });
    await forge(ann, id, { kind: 'edit', target: benMsg, sentAt: Date.now() + 1, text: 'rewritten again' }, { targetAuthor: 'ben' });
    await forge(ann, id, { kind: 'delete', target: benMsg }, { targetAuthor: 'ben' });
    // Cat names Ben's message too (a plain member).
    await forge(cat, id, { kind: 'delete', target: benMsg });
    await ann.sendGroupText(id, 'marker ann');
    await cat.sendGroupText(id, 'marker cat');
    for (const p of [ben, cat]) await eventually(async () => void (await textOf(p, id, 'marker ann')));
    for (const p of [ann, ben]) await eventually(async () => void (await textOf(p, id, 'marker cat')));
    for (const p of [ann, ben, cat]) {
      const m = await textOf(p, id, 'from ben');
      expect(m.edited).toBeUndefined();
      expect(m.deleted).toBeUndefined();
    }
    // The host relabels a real reaction of Ann's as Cat's: no key of Cat's opens it.
    const g = (await getGroup(ann.ctx.vault, id))!;
    const plain = encodeGroupText({ headVersion: g.history.head.version, headHash: stateHash(g.history.head), content: encodeContent({ kind: 'reaction', target: benMsg, emoji: '👍' }), targetAuthor: 'ben' as Username });
    const { message } = groupEncrypt(g.our!, plain);
    const out = await receiveGroupEnvelope(ben.ctx, { serverId: 'x', sender: 'cat' as Username, body: message, receivedAt: Date.now() });
    expect(out).toMatchObject({ stored: false, code: 'NoSenderKey' });
    expect((await textOf(ben, id, 'from ben')).reactions).toBeUndefined();
  });

  test('P47 targets are scoped per group: actions sent in another group leave this one unchanged', async () => {
    const { id, ann, ben } = await trio();
    const other = await ann.createGroup('Other', '', ['ben']);
    await eventually(async () => expect((await ben.groupInfo(other)).members).toHaveLength(2));
    await ben.sendGroupText(other, 'ben in other');
    await eventually(async () => void (await textOf(ann, other, 'ben in other')));
    const benMsg = contentId((await textOf(ann, id, 'from ben')).id);
    const annMsg = contentId((await textOf(ann, id, 'hello')).id);
    // Ben, under his sender key of the OTHER group, names his and Ann's messages of the first.
    await forge(ben, other, { kind: 'edit', target: benMsg, sentAt: Date.now(), text: 'moved across' });
    await forge(ben, other, { kind: 'delete', target: benMsg });
    await forge(ben, other, { kind: 'reaction', target: annMsg, emoji: '🔥' }, { targetAuthor: 'ann' });
    await ben.sendGroupText(other, 'marker');
    await eventually(async () => void (await textOf(ann, other, 'marker')));
    const fromBen = await textOf(ann, id, 'from ben');
    expect([fromBen.edited, fromBen.deleted]).toEqual([undefined, undefined]);
    expect((await textOf(ann, id, 'hello')).reactions).toBeUndefined();
    // Positive control: the same reaction in the right group lands.
    await forge(ben, id, { kind: 'reaction', target: annMsg, emoji: '🔥' }, { targetAuthor: 'ann' });
    await eventually(async () => expect((await textOf(ann, id, 'hello')).reactions).toEqual([{ emoji: '🔥', count: 1, who: ['ben'], mine: false }]));
  });

  test('P47 a pairwise reaction, edit or delete never reaches a group message', async () => {
    const { id, ann, ben } = await trio();
    const benMsg = contentId((await textOf(ann, id, 'from ben')).id);
    const annMsg = contentId((await textOf(ann, id, 'hello')).id);
    for (const content of [
      { kind: 'edit', target: benMsg, sentAt: Date.now(), text: 'pairwise edit' },
      { kind: 'delete', target: benMsg },
      { kind: 'reaction', target: annMsg, emoji: '😮' }
    ] as const) {
      await commit(ben.ctx.vault, (tx) => addOutbox(tx, { username: 'ann' as Username, content: encodeContent(content) }));
    }
    await ben.sendText('ann', 'pairwise marker');
    ben.ctx.kickOutbox();
    await eventually(async () => expect((await ann.listMessages('ben')).some((m) => m.kind === 'text' && m.text === 'pairwise marker')).toBe(true));
    const fromBen = await textOf(ann, id, 'from ben');
    expect([fromBen.text, fromBen.edited, fromBen.deleted]).toEqual(['from ben', undefined, undefined]);
    expect((await textOf(ann, id, 'hello')).reactions).toBeUndefined();
  });

  test('P21 P47 a removed member’s actions sent after the removal are refused', async () => {
    const { id, ann, ben, cat } = await trio();
    const snapshot = (await getGroup(ben.ctx.vault, id))!;
    await ann.removeGroupMember(id, 'ben');
    for (const p of [ann, ben, cat]) await eventually(async () => expect((await p.groupInfo(id)).members).toHaveLength(2));
    const benMsg = contentId((await textOf(ann, id, 'from ben')).id);
    const annMsg = contentId((await textOf(ann, id, 'hello')).id);
    // Ben's old client still has the sender key it had as a member.
    await forge(ben, id, { kind: 'edit', target: benMsg, sentAt: Date.now(), text: 'edited after removal' }, { snapshot, to: ['ann', 'cat'] });
    await forge(ben, id, { kind: 'reaction', target: annMsg, emoji: '😢' }, { snapshot, to: ['ann', 'cat'], targetAuthor: 'ann' });
    await forge(ben, id, { kind: 'delete', target: benMsg }, { snapshot, to: ['ann', 'cat'] });
    await cat.sendGroupText(id, 'marker cat');
    await ann.sendGroupText(id, 'marker ann');
    await eventually(async () => void (await textOf(ann, id, 'marker cat')));
    await eventually(async () => void (await textOf(cat, id, 'marker ann')));
    for (const p of [ann, cat]) {
      const m = await textOf(p, id, 'from ben');
      expect([m.edited, m.deleted]).toEqual([undefined, undefined]);
      expect((await textOf(p, id, 'hello')).reactions).toBeUndefined();
    }
  });
});

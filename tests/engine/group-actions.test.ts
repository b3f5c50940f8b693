/**
 * Message actions in groups (README "Groups": message actions; SECURITY.md P47, P21) through
 * engines on the REAL host: a reply quoting any member, reactions one per member with who
 * reacted, an edit and a delete for everyone seen by every member, delete for me local only; an
 * action that arrives before its message is held and applied, a replay refused by the chain.
 */
import { describe, expect, test } from 'vitest';
import { groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { encodeContent, newMessageId } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import { systemDeps } from '../../src/lib/crypto/deps';
import type { Username } from '../../src/lib/codec/username';
import { receiveGroupEnvelope } from '../../workers/engine/group-messages';
import { HOLD_MS, MAX_HELD } from '../../workers/engine/message-actions';
import { getGroup, putGroup } from '../../workers/storage/group-repo';
import { commit } from '../../workers/storage/vault';
import { eventually, reactionsAsSets } from './real-host-support';
import { groupActionHost, textOf, texts } from './group-actions-support';

const { trio } = groupActionHost('parley-gactions-');

describe('message actions in groups on the real host', () => {
  test('P47 a reply quotes any member with their name; reactions are one per member, counted with who; edit and delete reach every member', async () => {
    const { id, ann, ben, cat } = await trio();
    // Ben replies to Cat's message: everyone sees the quote with Cat's name and text.
    const fromCat = await textOf(ben, id, 'from cat');
    const reply = await ben.sendGroupReply(id, fromCat.id, 'nice one', ['cat' as Username]);
    expect(reply.kind === 'text' && reply.quote).toEqual({ id: fromCat.id, sender: 'cat', text: 'from cat' });
    for (const p of [ann, cat]) await eventually(async () => expect((await textOf(p, id, 'nice one')).quote).toMatchObject({ sender: 'cat', text: 'from cat' }));
    expect((await textOf(ben, id, 'nice one')).quote).toEqual({ id: fromCat.id, sender: 'cat', text: 'from cat' });
    expect((await textOf(cat, id, 'nice one')).mentions).toEqual(['cat']);

    // Ann and Cat react to Ben's reply; Cat changes hers: one per member.
    await ann.reactInGroup(id, (await textOf(ann, id, 'nice one')).id, '👍');
    await cat.reactInGroup(id, (await textOf(cat, id, 'nice one')).id, '👍');
    await eventually(async () => expect(reactionsAsSets((await textOf(ben, id, 'nice one')).reactions)).toEqual([{ emoji: '👍', count: 2, who: ['ann', 'cat'], mine: false }]));
    await cat.reactInGroup(id, (await textOf(cat, id, 'nice one')).id, '❤️');
    await eventually(async () =>
      expect((await textOf(ben, id, 'nice one')).reactions).toEqual([
        { emoji: '👍', count: 1, who: ['ann'], mine: false },
        { emoji: '❤️', count: 1, who: ['cat'], mine: false }
      ])
    );
    await eventually(async () => expect((await textOf(ann, id, 'nice one')).reactions?.find((r) => r.emoji === '👍')).toEqual({ emoji: '👍', count: 1, who: ['ann'], mine: true }));
    // Ann takes hers back.
    await ann.reactInGroup(id, (await textOf(ann, id, 'nice one')).id, '');
    await eventually(async () => expect((await textOf(ben, id, 'nice one')).reactions).toEqual([{ emoji: '❤️', count: 1, who: ['cat'], mine: false }]));

    // Cat edits her message: everyone sees the new text, "edited", and Ben's quote follows.
    await cat.editGroupMessage(id, (await textOf(cat, id, 'from cat')).id, 'from cat, edited');
    for (const p of [ann, ben, cat]) await eventually(async () => expect((await textOf(p, id, 'from cat, edited')).edited).toBe(true));
    expect((await textOf(ann, id, 'nice one')).quote?.text).toBe('from cat, edited');

    // Cat deletes it for everyone: a tombstone, and the quote no longer shows its text.
    await cat.deleteGroupMessageForEveryone(id, (await textOf(cat, id, 'from cat, edited')).id);
    for (const p of [ann, ben, cat]) await eventually(async () => expect(await texts(p, id)).toEqual(['hello', 'from ben', '(deleted)', 'nice one']));
    const quote = (await textOf(ann, id, 'nice one')).quote!;
    expect(quote.sender).toBe('cat');
    expect(quote.text).toBeUndefined();
    // No copy of the deleted text is left in the row (P44).
    const rows = await ann.ctx.vault.db.getAll('groupMessages');
    expect(JSON.stringify(rows)).not.toContain('from cat, edited');
    expect((await ann.searchMessages('edited')).total).toBe(0);

    // Delete for me: gone here only.
    await ann.deleteGroupMessageForMe(id, (await textOf(ann, id, 'hello')).id);
    expect(await texts(ann, id)).toEqual(['from ben', '(deleted)', 'nice one']);
    expect(await texts(ben, id)).toContain('hello');
  });

  test('P47 the sender refuses what the vault must never send: another member’s message, a notice, a non-emoji, another group’s message', async () => {
    const { id, ann, cat } = await trio();
    const fromBen = await textOf(ann, id, 'from ben');
    // Ann is an admin: still no edit or delete of Ben's message (there is no admin delete).
    await expect(ann.editGroupMessage(id, fromBen.id, 'rewritten')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(ann.deleteGroupMessageForEveryone(id, fromBen.id)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(ann.reactInGroup(id, fromBen.id, 'ok')).rejects.toMatchObject({ code: 'InvalidArgument' });
    const notice = (await ann.listGroupMessages(id)).find((m) => m.kind === 'notice')!;
    await expect(ann.reactInGroup(id, notice.id, '👍')).rejects.toMatchObject({ code: 'InvalidArgument' });
    const other = await ann.createGroup('Other', '', ['ben']);
    await expect(ann.reactInGroup(other, fromBen.id, '👍')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(ann.sendGroupReply(other, fromBen.id, 'hi')).rejects.toMatchObject({ code: 'InvalidArgument' });
    // Nothing was queued or changed by the refusals.
    expect((await getGroup(ann.ctx.vault, id))!.outgoing).toHaveLength(0);
    expect((await textOf(ann, id, 'from ben')).text).toBe('from ben');
    // Removed: no more actions in that group, not even on one's own message.
    await ann.removeGroupMember(id, 'cat');
    await eventually(async () => expect((await cat.groupInfo(id)).isMember).toBe(false));
    await expect(cat.editGroupMessage(id, (await textOf(cat, id, 'from cat')).id, 'late')).rejects.toMatchObject({ code: 'NotGroupMember' });
    await expect(cat.reactInGroup(id, (await textOf(cat, id, 'hello')).id, '👍')).rejects.toMatchObject({ code: 'NotGroupMember' });
    // Delete for me stays possible (nothing is sent).
    await cat.deleteGroupMessageForMe(id, (await textOf(cat, id, 'hello')).id);
    expect(await texts(cat, id)).toEqual(['from ben', 'from cat']);
  });

  test('P47 P21 an action that arrives before its message is held, then applied; a replay is refused by the chain', async () => {
    const { id, ann, ben } = await trio();
    // Ben's modified client encrypts a message and then his edit and reaction to it; the host
    // delivers the edit and the reaction to Ann first (reordering), the message last.
    const g = (await getGroup(ben.ctx.vault, id))!;
    const head = g.history.head;
    const msgId = newMessageId(systemDeps.rng);
    const plain = (content: Parameters<typeof encodeContent>[0], targetAuthor?: string) =>
      encodeGroupText({ headVersion: head.version, headHash: stateHash(head), content: encodeContent(content), ...(targetAuthor ? { targetAuthor: targetAuthor as Username } : {}) });
    const m1 = groupEncrypt(g.our!, plain({ kind: 'text', id: msgId, sentAt: Date.now(), text: 'first draft' }));
    const m2 = groupEncrypt(m1.state, plain({ kind: 'edit', target: msgId, sentAt: Date.now() + 1, text: 'final text' }));
    const m3 = groupEncrypt(m2.state, plain({ kind: 'reaction', target: msgId, emoji: '🎉' }, 'ben'));
    await commit(ben.ctx.vault, (tx) => putGroup(tx, { ...g, our: m3.state }));
    const env = (body: Uint8Array) => ({ serverId: newMessageId(systemDeps.rng), sender: 'ben' as Username, body, receivedAt: Date.now() });
    expect((await receiveGroupEnvelope(ann.ctx, env(m2.message))).stored).toBe(true);
    expect((await receiveGroupEnvelope(ann.ctx, env(m3.message))).stored).toBe(true);
    expect(await texts(ann, id)).toEqual(['hello', 'from ben', 'from cat']);
    await receiveGroupEnvelope(ann.ctx, env(m1.message));
    const final = await textOf(ann, id, 'final text');
    expect(final.edited).toBe(true);
    expect(final.reactions).toEqual([{ emoji: '🎉', count: 1, who: ['ben'], mine: false }]);
    // The late message filled the gap the early actions opened.
    expect((await getGroup(ann.ctx.vault, id))!.missing).toBe(0);
    // A replayed edit is refused by the sender-key chain before any rule runs.
    await expect(receiveGroupEnvelope(ann.ctx, env(m2.message))).rejects.toMatchObject({ code: expect.any(String) });
    expect((await textOf(ann, id, 'final text')).text).toBe('final text');
  });

  test('P47 held actions are bounded: forgotten after HOLD_MS, and beyond MAX_HELD the oldest go first', async () => {
    const { id, ann, ben } = await trio();
    let g = (await getGroup(ben.ctx.vault, id))!;
    const head = g.history.head;
    const wrap = (content: Parameters<typeof encodeContent>[0], targetAuthor?: string) => {
      const out = groupEncrypt(g.our!, encodeGroupText({ headVersion: head.version, headHash: stateHash(head), content: encodeContent(content), ...(targetAuthor ? { targetAuthor: targetAuthor as Username } : {}) }));
      g = { ...g, our: out.state };
      return { serverId: newMessageId(systemDeps.rng), sender: 'ben' as Username, body: out.message, receivedAt: Date.now() };
    };
    // Ann's vault with a clock the test moves (its own held list: held actions are per engine context).
    let clock = Date.now();
    const annAt = { ...ann.ctx, deps: { ...ann.ctx.deps, now: () => clock } };
    const late = newMessageId(systemDeps.rng);
    const stale = wrap({ kind: 'reaction', target: late, emoji: '👀' }, 'ben');
    const lateText = wrap({ kind: 'text', id: late, sentAt: clock, text: 'late one' });
    await receiveGroupEnvelope(annAt, stale);
    clock += HOLD_MS + 1;
    await receiveGroupEnvelope(annAt, lateText);
    expect((await textOf(ann, id, 'late one')).reactions).toBeUndefined();
    // MAX_HELD + 1 reactions wait for as many messages: the first is pushed out, the second kept.
    const ids = Array.from({ length: MAX_HELD + 1 }, () => newMessageId(systemDeps.rng));
    const reactions = ids.map((t) => wrap({ kind: 'reaction', target: t, emoji: '🎉' }, 'ben'));
    const first = wrap({ kind: 'text', id: ids[0]!, sentAt: clock, text: 'first waited for' });
    const second = wrap({ kind: 'text', id: ids[1]!, sentAt: clock, text: 'second waited for' });
    for (const r of reactions) await receiveGroupEnvelope(annAt, r);
    await receiveGroupEnvelope(annAt, first);
    await receiveGroupEnvelope(annAt, second);
    expect((await textOf(ann, id, 'first waited for')).reactions).toBeUndefined();
    expect((await textOf(ann, id, 'second waited for')).reactions).toEqual([{ emoji: '🎉', count: 1, who: ['ben'], mine: false }]);
    await commit(ben.ctx.vault, (tx) => putGroup(tx, g));
  });

  test('P19 P47 while a member showed a newer head we cannot reach, no action is sent (GroupOutOfDate)', async () => {
    const { id, ann } = await trio();
    const g = (await getGroup(ann.ctx.vault, id))!;
    await commit(ann.ctx.vault, (tx) => putGroup(tx, { ...g, seenVersion: g.history.head.version + 5 }));
    const hello = (await textOf(ann, id, 'hello')).id;
    await expect(ann.reactInGroup(id, hello, '👍')).rejects.toMatchObject({ code: 'GroupOutOfDate' });
    await expect(ann.editGroupMessage(id, hello, 'changed')).rejects.toMatchObject({ code: 'GroupOutOfDate' });
    await expect(ann.sendGroupReply(id, hello, 'reply')).rejects.toMatchObject({ code: 'GroupOutOfDate' });
    const after = (await getGroup(ann.ctx.vault, id))!;
    expect(after.outgoing).toHaveLength(0);
    expect((await textOf(ann, id, 'hello')).reactions).toBeUndefined();
  });
});

/**
 * Message actions between real engines through an in-memory host (workers/engine/message-actions.ts):
 * replies, reactions, edits, delete for me and for everyone; and the rules a hostile peer meets:
 * P47 only a message's author edits or deletes it (never ours, never another chat's), actions
 * for unknown ids create nothing, a reaction replaces the sender's previous one, no action makes
 * the receiver send anything (no receipts), deleted text leaves no copy in the row (P44).
 * The hostile peer is bob's own engine queueing raw content on his real session with alice.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { asUsername } from '../../src/lib/codec/username';
import { encodeContent, type Content } from '../../src/lib/wire/content';
import { addOutbox } from '../../workers/storage/outbox-repo';
import { getMessage, listMessages, putMessage } from '../../workers/storage/message-repo';
import type { MessageRecord } from '../../workers/storage/schema';
import { getChat } from '../../workers/storage/chat-repo';
import { commit } from '../../workers/storage/vault';
import { ACTION_WINDOW_MS, MAX_EDIT_HISTORY, RECEIVE_WINDOW_MS } from '../../workers/engine/message-actions';
import { systemDeps } from '../../src/lib/crypto/deps';
import type { MessageView } from '../../src/lib/vault/views';
import { closeAll, newUser, settle, type User } from './support';
import { Impostor } from './impostor';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

async function trio(): Promise<{ host: MemoryHost; alice: User; bob: User; carol: User }> {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob');
  const carol = await newUser(host, 'carol');
  open.push(alice, bob, carol);
  await alice.engine.lookupUser('bob');
  await alice.engine.lookupUser('carol');
  return { host, alice, bob, carol };
}

/** `from` sends raw content to `to` on its real session: what a modified client can do. */
async function sendRaw(from: User, to: string, c: Content): Promise<void> {
  await commit(from.engine.ctx.vault, (tx) => addOutbox(tx, { username: asUsername(to), content: encodeContent(c) }));
  from.engine.ctx.kickOutbox();
}

type TextView = Extract<MessageView, { kind: 'text' }>;
async function view(u: User, chat: string, id: string): Promise<TextView> {
  const m = (await u.engine.listMessages(asUsername(chat))).find((x) => x.id === id);
  if (m?.kind !== 'text') throw new Error(`no text ${id} in ${u.name}'s chat with ${chat}`);
  return m;
}

const sentBy = (host: MemoryHost, name: string) => host.sent.filter((s) => s.from === name).length;
const contentId = (key: string) => key.split(':').at(-1)!;

describe('message actions', () => {
  test('reply, react, edit and delete for everyone reach the other side; a reaction replaces the previous one', async () => {
    const { alice, bob } = await trio();
    const hello = await alice.engine.sendText(asUsername('bob'), 'hello');
    await settle(alice, bob);
    const onBob = `alice:${hello.id}`;
    const reply = await bob.engine.sendReply(asUsername('alice'), onBob, 'hi back');
    expect(reply.kind === 'text' && reply.quote).toEqual({ id: onBob, direction: 'in', text: 'hello' });
    await bob.engine.react(asUsername('alice'), onBob, '👍');
    await settle(alice, bob);
    const replyOnAlice = `bob:${reply.id}`;
    expect((await view(alice, 'bob', replyOnAlice)).quote).toEqual({ id: hello.id, direction: 'out', text: 'hello' });
    expect((await view(alice, 'bob', hello.id)).reactions).toEqual([{ emoji: '👍', count: 1, mine: false }]);

    // Bob changes his mind: one reaction per person, the new one replaces the old.
    await bob.engine.react(asUsername('alice'), onBob, '❤️');
    await alice.engine.react(asUsername('bob'), hello.id, '❤️');
    await settle(alice, bob);
    expect((await view(alice, 'bob', hello.id)).reactions).toEqual([{ emoji: '❤️', count: 2, mine: true }]);
    expect((await view(bob, 'alice', onBob)).reactions).toEqual([{ emoji: '❤️', count: 2, mine: true }]);

    await alice.engine.editMessage(asUsername('bob'), hello.id, 'hello there');
    await settle(alice, bob);
    expect(await view(bob, 'alice', onBob)).toMatchObject({ text: 'hello there', edited: true });
    expect((await view(bob, 'alice', reply.id)).quote?.text).toBe('hello there');

    await alice.engine.deleteForEveryone(asUsername('bob'), hello.id);
    await settle(alice, bob);
    const gone = await view(bob, 'alice', onBob);
    expect(gone).toMatchObject({ text: '', deleted: true });
    expect(gone.reactions).toBeUndefined();
    // P44: no copy of any version of the text stays in bob's row, its quote or the chat preview.
    const row = await getMessage(bob.engine.ctx.vault, onBob);
    expect(JSON.stringify(row)).not.toMatch(/hello/);
    expect((await view(bob, 'alice', reply.id)).quote).toEqual({ id: onBob, direction: 'in' });
    expect((await getChat(bob.engine.ctx.vault, asUsername('alice')))?.lastPreview).not.toMatch(/hello/);
  });

  test('P47 a peer cannot edit or delete my message, nor a message of another chat', async () => {
    const { alice, bob, carol } = await trio();
    const mine = await alice.engine.sendText(asUsername('bob'), 'my words');
    const toCarol = await alice.engine.sendText(asUsername('carol'), 'for carol');
    await carol.engine.sendText(asUsername('alice'), 'from carol');
    await settle(alice, bob, carol);
    const carolsKey = (await alice.engine.listMessages(asUsername('carol'))).find((m) => m.kind === 'text' && m.direction === 'in')!.id;
    for (const target of [mine.id, toCarol.id, contentId(carolsKey)]) {
      await sendRaw(bob, 'alice', { kind: 'edit', target, sentAt: Date.now(), text: 'forged' });
      await sendRaw(bob, 'alice', { kind: 'delete', target });
    }
    // A reaction may target alice's message in the chat with bob, never one of another chat.
    await sendRaw(bob, 'alice', { kind: 'reaction', target: toCarol.id, emoji: '💩' });
    await sendRaw(bob, 'alice', { kind: 'reaction', target: contentId(carolsKey), emoji: '💩' });
    await settle(alice, bob, carol);
    expect(await view(alice, 'bob', mine.id)).toMatchObject({ text: 'my words' });
    expect((await view(alice, 'bob', mine.id)).edited).toBeUndefined();
    expect((await view(alice, 'bob', mine.id)).deleted).toBeUndefined();
    for (const [id, text] of [[toCarol.id, 'for carol'], [carolsKey, 'from carol']] as const) {
      const m = await view(alice, 'carol', id);
      expect(m).toMatchObject({ text });
      expect(m.edited ?? m.deleted ?? m.reactions).toBeUndefined();
    }
    // The author herself can: carol edits her own message.
    await sendRaw(carol, 'alice', { kind: 'edit', target: contentId(carolsKey), sentAt: Date.now(), text: 'carol, edited' });
    await settle(alice, carol);
    expect(await view(alice, 'carol', carolsKey)).toMatchObject({ text: 'carol, edited', edited: true });
  });

  test('P47 actions for unknown ids create no row and change nothing; no action makes the receiver send', async () => {
    const { host, alice, bob } = await trio();
    await alice.engine.sendText(asUsername('bob'), 'one');
    await settle(alice, bob);
    const before = await listMessages(alice.engine.ctx.vault, asUsername('bob'));
    const chatBefore = await getChat(alice.engine.ctx.vault, asUsername('bob'));
    const aliceSent = sentBy(host, 'alice');
    const unknown = 'ab'.repeat(16);
    await sendRaw(bob, 'alice', { kind: 'edit', target: unknown, sentAt: Date.now(), text: 'ghost' });
    await sendRaw(bob, 'alice', { kind: 'delete', target: unknown });
    await sendRaw(bob, 'alice', { kind: 'reaction', target: unknown, emoji: '👻' });
    // And on a message that exists: a reaction and an edit are applied, yet nothing is sent back.
    const theirs = await bob.engine.sendText(asUsername('alice'), 'two');
    await settle(alice, bob);
    const aliceAfterText = sentBy(host, 'alice'); // the text's delivery receipt
    await bob.engine.react(asUsername('alice'), `alice:${before[0]!.id}`, '🎉');
    await bob.engine.editMessage(asUsername('alice'), theirs.id, 'two!');
    await bob.engine.deleteForEveryone(asUsername('alice'), theirs.id);
    await settle(alice, bob);
    expect(sentBy(host, 'alice')).toBe(aliceAfterText);
    expect(aliceAfterText).toBe(aliceSent + 1);
    const after = await listMessages(alice.engine.ctx.vault, asUsername('bob'));
    expect(after.map((m) => m.key)).toEqual([...before.map((m) => m.key), `bob:${theirs.id}`]);
    expect(JSON.stringify(after)).not.toMatch(/ghost|👻/);
    expect((await getChat(alice.engine.ctx.vault, asUsername('bob')))?.unread).toBe(chatBefore!.unread);
  });

  test('edit history is bounded and an older edit arriving late is ignored', async () => {
    const { alice, bob } = await trio();
    const m = await alice.engine.sendText(asUsername('bob'), 'v0');
    await settle(alice, bob);
    for (let i = 1; i <= MAX_EDIT_HISTORY + 3; i++) await alice.engine.editMessage(asUsername('bob'), m.id, `v${i}`);
    await settle(alice, bob);
    const row = await getMessage(bob.engine.ctx.vault, `alice:${m.id}`);
    expect(row?.body).toBe(`v${MAX_EDIT_HISTORY + 3}`);
    expect(row?.extras?.history).toHaveLength(MAX_EDIT_HISTORY);
    expect(row?.extras?.history?.at(-1)?.text).toBe(`v${MAX_EDIT_HISTORY + 2}`);
    await sendRaw(alice, 'bob', { kind: 'edit', target: m.id, sentAt: 1, text: 'stale' });
    await settle(alice, bob);
    expect((await getMessage(bob.engine.ctx.vault, `alice:${m.id}`))?.body).toBe(`v${MAX_EDIT_HISTORY + 3}`);
  });

  test('only our own messages are edited or deleted for everyone; delete for me removes the row and sends nothing', async () => {
    const { host, alice, bob } = await trio();
    await bob.engine.sendText(asUsername('alice'), 'bob says');
    await settle(alice, bob);
    const theirs = (await alice.engine.listMessages(asUsername('bob')))[0]!.id;
    await expect(alice.engine.editMessage(asUsername('bob'), theirs, 'x')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.engine.deleteForEveryone(asUsername('bob'), theirs)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.engine.react(asUsername('bob'), theirs, 'no')).rejects.toMatchObject({ code: 'InvalidArgument' });
    const sent = sentBy(host, 'alice');
    const events: unknown[] = [];
    alice.engine.subscribe((e) => events.push(e));
    await alice.engine.deleteForMe(asUsername('bob'), theirs);
    await settle(alice, bob);
    expect(await getMessage(alice.engine.ctx.vault, theirs)).toBeUndefined();
    expect(events).toContainEqual({ type: 'message', username: 'bob', id: theirs, removed: true });
    expect((await getChat(alice.engine.ctx.vault, asUsername('bob')))?.lastPreview).toBe('');
    expect(sentBy(host, 'alice')).toBe(sent);
    expect(await bob.engine.listMessages(asUsername('alice'))).toHaveLength(1);
  });

  test('edits and deletes for everyone: only within 24 hours when sent, and a late one is not honoured on receipt', async () => {
    const host = new MemoryHost();
    let clock = 1_800_000_000_000;
    const deps = { ...systemDeps, now: () => clock };
    const alice = await newUser(host, 'alice', { deps });
    const bob = await newUser(host, 'bob', { deps });
    open.push(alice, bob);
    await alice.engine.lookupUser('bob');
    const old = await alice.engine.sendText(asUsername('bob'), 'yesterday');
    await settle(alice, bob);
    clock += ACTION_WINDOW_MS + 1;
    await expect(alice.engine.editMessage(asUsername('bob'), old.id, 'rewritten')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.engine.deleteForEveryone(asUsername('bob'), old.id)).rejects.toMatchObject({ code: 'InvalidArgument' });
    // A reaction has no window.
    await alice.engine.react(asUsername('bob'), old.id, '👍');
    // A modified client that sends one anyway: honoured within the receive window, not after it.
    await sendRaw(alice, 'bob', { kind: 'edit', target: old.id, sentAt: clock, text: 'late but allowed' });
    await settle(alice, bob);
    expect((await view(bob, 'alice', `alice:${old.id}`)).text).toBe('late but allowed');
    clock += RECEIVE_WINDOW_MS;
    await sendRaw(alice, 'bob', { kind: 'delete', target: old.id });
    await settle(alice, bob);
    expect(await view(bob, 'alice', `alice:${old.id}`)).toMatchObject({ text: 'late but allowed', reactions: [{ emoji: '👍', count: 1, mine: false }] });
  });

  test('P46 reactions, edit history and quotes are sealed with the body and survive the data key rotation', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice', { appLockKdf: { opslimit: 1, memlimitBytes: 8192 } });
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await alice.engine.lookupUser('bob');
    const m = await alice.engine.sendText(asUsername('bob'), 'first 4711');
    await alice.engine.editMessage(asUsername('bob'), m.id, 'second 0815');
    await alice.engine.react(asUsername('bob'), m.id, '🔥');
    const reply = await alice.engine.sendReply(asUsername('bob'), m.id, 'replying');
    // At rest nothing of it is clear: not the texts, the emoji or the quoted id.
    const raw = await alice.engine.ctx.vault.db.get('messages', m.id);
    const rawReply = await alice.engine.ctx.vault.db.get('messages', reply.id);
    const bytes = new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array([...raw!.sealed.ct, ...rawReply!.sealed.ct]));
    expect(JSON.stringify(raw) + JSON.stringify(rawReply) + bytes).not.toMatch(/first 4711|second 0815|🔥|quote|history/);
    expect(raw).not.toHaveProperty('extras');
    await alice.engine.locks.enableLock('velvet tundra quiz marmalade osprey 93', 5);
    const after = await getMessage(alice.engine.ctx.vault, m.id);
    expect(after?.extras).toMatchObject({ reactions: { '': '🔥' }, history: [{ text: 'first 4711' }] });
    expect((await view(alice, 'bob', reply.id)).quote).toEqual({ id: m.id, direction: 'out', text: 'second 0815' });
  });

  test('P3 P47 a changed key not yet accepted cannot edit, delete or react to the contact\'s messages', async () => {
    const { host, alice, bob } = await trio();
    const theirs = await bob.engine.sendText(asUsername('alice'), 'the real bob');
    await settle(alice, bob);
    // The host speaks as bob with a key of its own (the impostor's first message makes alice see a key change).
    const impostor = new Impostor(host, 'bob', 'alice');
    impostor.send({ kind: 'edit', target: theirs.id, sentAt: Date.now() + 1, text: 'forged by the host' });
    impostor.send({ kind: 'reaction', target: theirs.id, emoji: '💩' });
    impostor.send({ kind: 'delete', target: theirs.id });
    await settle(alice, bob);
    const m = await view(alice, 'bob', `bob:${theirs.id}`);
    expect(m).toMatchObject({ text: 'the real bob' });
    expect(m.edited ?? m.deleted ?? m.reactions).toBeUndefined();
  });

  test('P44 a message deleted for everyone while still queued offline never leaves: no text, no delete sent', async () => {
    const { host, alice, bob } = await trio();
    alice.engine.disconnect();
    const m = await alice.engine.sendText(asUsername('bob'), 'second thoughts 4711');
    await alice.engine.deleteForEveryone(asUsername('bob'), m.id);
    alice.engine.connect();
    await settle(alice, bob);
    expect(sentBy(host, 'alice')).toBe(0);
    expect(await bob.engine.listMessages(asUsername('alice'))).toEqual([]);
    expect((await view(alice, 'bob', m.id)).deleted).toBe(true);
  });

  test('an edit and a reaction that arrive before their message (a host reordering) are held in memory and applied when it comes', async () => {
    const { host, alice, bob } = await trio();
    await bob.engine.sendText(asUsername('alice'), 'warm up');
    await settle(alice, bob);
    host.autoPush = false;
    const m = await bob.engine.sendText(asUsername('alice'), 'draft');
    await settle(alice, bob);
    await bob.engine.editMessage(asUsername('alice'), m.id, 'final');
    await bob.engine.react(asUsername('alice'), m.id, '👀');
    await settle(alice, bob);
    const ids = host.pending(asUsername('alice')).map((e) => e.serverId);
    expect(ids).toHaveLength(3);
    host.push(asUsername('alice'), [ids[1]!, ids[2]!]);
    await settle(alice, bob);
    // Held, not stored: no row for the message yet.
    expect((await alice.engine.listMessages(asUsername('bob'))).map((x) => x.id)).not.toContain(`bob:${m.id}`);
    host.push(asUsername('alice'), [ids[0]!]);
    await settle(alice, bob);
    expect(await view(alice, 'bob', `bob:${m.id}`)).toMatchObject({ text: 'final', edited: true, reactions: [{ emoji: '👀', count: 1, mine: false }] });
  });

  test('P44 a file message keeps its file through a reaction and loses its key and blob id when deleted for everyone', async () => {
    const { alice, bob } = await trio();
    const id = 'cd'.repeat(16);
    const file: MessageRecord = {
      key: id, id, username: asUsername('bob'), direction: 'out', body: 'caption 4711', sentAt: Date.now(), receivedAt: Date.now(), status: 'sent',
      attachment: { kind: 'attachment', id, sentAt: 1, blobId: 'ef'.repeat(16), key: new Uint8Array(32).fill(7), digest: new Uint8Array(32).fill(9), size: 10, mime: 'image/png', name: 'a.png' }
    };
    await commit(alice.engine.ctx.vault, (tx) => putMessage(tx, file));
    await alice.engine.react(asUsername('bob'), id, '👍');
    const reacted = await getMessage(alice.engine.ctx.vault, id);
    expect(reacted).toMatchObject({ body: 'caption 4711', attachment: { blobId: 'ef'.repeat(16), name: 'a.png' }, extras: { reactions: { '': '👍' } } });
    expect(reacted?.attachment?.key).toEqual(new Uint8Array(32).fill(7));
    await alice.engine.deleteForEveryone(asUsername('bob'), id);
    const gone = await getMessage(alice.engine.ctx.vault, id);
    expect(gone?.attachment).toBeUndefined();
    expect(gone).toMatchObject({ body: '', extras: { deleted: true } });
    await settle(alice, bob);
  });
});

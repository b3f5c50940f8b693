/**
 * Deleting a 1:1 chat (workers/engine/chat-delete.ts; README "Chat list"), through engines on the
 * REAL host: local to this browser and silent. Its messages, their search entries and file copies
 * leave IndexedDB (P44's rule for what goes with a message); the contact, the session and the
 * agreed disappearing timer stay; the chat is out of the list until the next message, which
 * brings it back alone. The other person keeps everything and is told nothing.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import type { Username } from '../../src/lib/codec/username';
import { messageOwner } from '../../workers/storage/file-repo';
import { listOutbox } from '../../workers/storage/outbox-repo';
import { enginesOnRealHost, eventually, texts } from './real-host-support';

const { user } = enginesOnRealHost('parley-chat-delete-');
const ALICE = 'alice' as Username;
const BOB = 'bob' as Username;

describe('deleting a chat', () => {
  test('P44 its messages, search entries and file copies leave this browser; contact, session and timer stay; the next message brings it back alone; the other side is not told', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.sendText(BOB, 'the meeting point is the old mill');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['the meeting point is the old mill']));
    await bob.acceptRequest(ALICE);
    await bob.sendText(ALICE, 'see you there');
    await alice.setDisappearing(BOB, 86_400);
    await eventually(async () => expect((await bob.listChats()).find((c) => c.username === ALICE)?.disappearing).toBe(86_400));
    await alice.sendAttachment(BOB, { bytes: new Uint8Array(4000).fill(9), name: 'map.txt', mime: 'text/plain', transfer: 't1' });
    let fileId = '';
    await eventually(async () => {
      const m = (await bob.listMessages('alice')).find((x) => x.kind === 'text' && x.attachment?.name === 'map.txt');
      expect(m).toBeDefined();
      fileId = m!.id;
    });
    await bob.openAttachment('alice', fileId, 'd');
    const owner = messageOwner(fileId);
    const copy = () => bob.ctx.vault.db.getAllKeys('files', IDBKeyRange.bound([owner, -3], [owner, Number.MAX_SAFE_INTEGER]));
    expect((await copy()).length).toBeGreaterThan(0);
    expect((await bob.searchMessages('mill')).total).toBe(1);
    const alicesBefore = await texts(alice, 'bob');

    await bob.deleteChat(ALICE);
    expect((await bob.listChats()).map((c) => c.username)).not.toContain(ALICE);
    expect(await bob.listMessages('alice')).toEqual([]);
    expect(await bob.ctx.vault.db.countFromIndex('messages', 'byChat', IDBKeyRange.bound([ALICE, 0], [ALICE, Number.MAX_SAFE_INTEGER]))).toBe(0);
    expect((await bob.searchMessages('mill')).total).toBe(0);
    expect(await copy()).toEqual([]);
    // The contact (and its session) stay: bob writes to alice without a new handshake or request.
    expect((await bob.contactInfo(ALICE)).username).toBe(ALICE);

    // Alice keeps everything and is told nothing.
    await new Promise((r) => setTimeout(r, 200));
    expect(await texts(alice, 'bob')).toEqual(alicesBefore);

    // Her next message brings the chat back, alone, with the timer they agreed.
    await alice.sendText(BOB, 'running late');
    await eventually(async () => expect((await bob.listChats()).map((c) => c.username)).toContain(ALICE));
    const back = (await bob.listChats()).find((c) => c.username === ALICE)!;
    expect(back).toMatchObject({ lastPreview: 'running late', disappearing: 86_400, request: false });
    expect(await texts(bob, 'alice')).toEqual(['running late']);
  });

  test('a text still waiting to be encrypted when its chat is deleted is never sent', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.sendText(BOB, 'hi bob');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hi bob']));
    await bob.acceptRequest(ALICE);
    await bob.disconnect();
    // As the transport reports a lost connection (a deliberate disconnect reports none).
    bob.ctx.connection = 'offline';
    await bob.sendText(ALICE, 'words bob took back');
    // Queued, not yet encrypted (the outbox runs only online).
    expect((await listOutbox(bob.ctx.vault)).some((i) => i.username === ALICE && i.content && !i.ciphertext)).toBe(true);
    await bob.deleteChat(ALICE);
    bob.connect();
    // Bob back online: his reply after the deletion arrives, the deleted one never does.
    await eventually(async () => expect((await bob.listChats()).length).toBe(0));
    await bob.sendText(ALICE, 'after');
    await eventually(async () => expect(await texts(alice, 'bob')).toContain('after'));
    expect(await texts(alice, 'bob')).toEqual(['hi bob', 'after']);
  });

  test('a message request is not deleted as a chat (it is deleted as a request, which forgets the stranger)', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.sendText(BOB, 'hello?');
    await eventually(async () => expect((await bob.listChats()).map((c) => c.username)).toContain(ALICE));
    await expect(bob.deleteChat(ALICE)).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await texts(bob, 'alice')).toEqual(['hello?']);
  });
});

describe('deleting a group we are no longer in', () => {
  test('P44 a left group goes from this browser with its messages and search entries; a member must leave first; the others keep everything', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.lookupUser('bob');
    await alice.sendText(BOB, 'hi');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hi']));
    await bob.acceptRequest(ALICE);
    const id = await alice.createGroup('Hike', '', ['bob']);
    await eventually(async () => expect((await bob.listGroups()).map((g) => g.id)).toContain(id));
    await alice.sendGroupText(id, 'trailhead at nine');
    await eventually(async () => expect((await bob.listGroupMessages(id)).some((m) => m.kind === 'text' && m.text === 'trailhead at nine')).toBe(true));
    // Still a member: deleting would look like nothing to the others, so it is refused.
    await expect(bob.deleteGroup(id)).rejects.toMatchObject({ code: 'InvalidArgument' });

    await bob.leaveGroup(id);
    expect((await bob.groupInfo(id)).isMember).toBe(false);
    expect((await bob.searchMessages('trailhead')).total).toBe(1);
    await bob.deleteGroup(id);
    expect((await bob.listGroups()).map((g) => g.id)).not.toContain(id);
    expect(await bob.ctx.vault.db.countFromIndex('groupMessages', 'byGroup', IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]))).toBe(0);
    expect((await bob.searchMessages('trailhead')).total).toBe(0);
    await expect(bob.groupInfo(id)).rejects.toMatchObject({ code: 'NoSuchGroup' });
    // Alice keeps the group and its history.
    expect((await alice.listGroupMessages(id)).some((m) => m.kind === 'text' && m.text === 'trailhead at nine')).toBe(true);
  });
});

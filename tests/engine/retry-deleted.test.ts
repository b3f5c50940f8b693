/**
 * SECURITY.md P36 and P47, what a `retry` may bring back: only texts that still exist as sent.
 * A contact's retry request (after a PIN restore, or for an envelope that did not decrypt) names
 * the encryptions it lacks; the sender answers with `resent` texts (workers/engine/retry.ts).
 * A message deleted for everyone, and a file message (whose file a text cannot carry), are never
 * answered: a deleted one would come back as an empty text where the delete had left nothing,
 * and a file's caption would stand in for the file under the file's own id. Real host.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { encodeContent } from '../../src/lib/wire/content';
import { refFromKey } from '../../workers/engine/refs';
import { listMessages } from '../../workers/storage/message-repo';
import { addOutbox } from '../../workers/storage/outbox-repo';
import { commit } from '../../workers/storage/vault';
import { enginesOnRealHost, eventually, texts } from './real-host-support';
import { engineFail } from '../../workers/engine/errors';

const { user } = enginesOnRealHost('parley-retry-deleted-');
const ALICE = asUsername('alice');
const BOB = asUsername('bob');

describe('retry requests and deleted or file messages', () => {
  test('P36 P47 a retry naming a deleted message or a file message resends neither; a live text is resent', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.sendText(BOB, 'hello bob');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob']));
    await bob.sendText(ALICE, 'hello alice');
    const gone = await alice.sendText(BOB, 'regretted');
    const kept = await alice.sendText(BOB, 'still here');
    const file = await alice.sendAttachment(BOB, { bytes: new Uint8Array(1000).fill(7), name: 'f.bin', mime: '', caption: 'a caption', transfer: 't1' });
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', 'regretted', 'still here', 'a caption']));
    await alice.deleteForEveryone(BOB, gone.id);
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', '', 'still here', 'a caption']));

    const mine = async () => (await listMessages(alice.ctx.vault, BOB)).filter((m) => m.direction === 'out');
    const sent = await mine();
    const refOf = (id: string) => refFromKey(sent.find((m) => m.id === id)!.sentVia![0]!);
    const before = new Map(sent.map((m) => [m.id, m.sentVia?.length ?? 0]));

    // Bob's vault asks alice for all three again, as its retry logic would.
    await commit(bob.ctx.vault, (tx) => addOutbox(tx, { username: ALICE, content: encodeContent({ kind: 'retry', missing: [refOf(gone.id), refOf(kept.id), refOf(file.id)] }) }));
    bob.ctx.kickOutbox();
    // Only the live text is encrypted again (a resend adds an encryption to its message's sentVia).
    await eventually(async () => expect((await mine()).find((m) => m.id === kept.id)!.sentVia!.length).toBe(before.get(kept.id)! + 1));
    await alice.settle();
    await bob.settle();
    const after = await mine();
    expect(after.find((m) => m.id === gone.id)!.sentVia!.length).toBe(before.get(gone.id));
    expect(after.find((m) => m.id === file.id)!.sentVia!.length).toBe(before.get(file.id));
    // Bob's chat is as the delete left it: no empty text, no caption without its file.
    expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', '', 'still here', 'a caption']);
    const views = await bob.listMessages(ALICE);
    expect(views.filter((m) => m.kind === 'text' && m.attachment)).toHaveLength(1);
  });

  test('P47 a resend already queued when its message is deleted for everyone is withdrawn with it', async () => {
    const gate = { down: false };
    const alice = await user('alice', {
      wrap: (t) => {
        const send = t.send.bind(t);
        const sendSealed = t.sendSealed.bind(t);
        t.send = async (...a) => (gate.down ? engineFail('Unavailable', 'host out of reach') : send(...a));
        t.sendSealed = async (...a) => (gate.down ? engineFail('Unavailable', 'host out of reach') : sendSealed(...a));
      }
    });
    const bob = await user('bob');
    await alice.sendText(BOB, 'hello bob');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob']));
    await bob.sendText(ALICE, 'hello alice');
    const gone = await alice.sendText(BOB, 'regretted later');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', 'regretted later']));
    await eventually(async () => expect(await alice.ctx.vault.db.count('outbox')).toBe(0));
    const ref = refFromKey((await listMessages(alice.ctx.vault, BOB)).find((m) => m.id === gone.id)!.sentVia![0]!);

    // Bob asks for it again while alice's sends fail: her resend waits in her outbox.
    gate.down = true;
    await commit(bob.ctx.vault, (tx) => addOutbox(tx, { username: ALICE, content: encodeContent({ kind: 'retry', missing: [ref] }) }));
    bob.ctx.kickOutbox();
    await eventually(async () => expect((await alice.ctx.vault.db.getAll('outbox')).filter((r) => r.resendOf === gone.id)).toHaveLength(1));
    await alice.deleteForEveryone(BOB, gone.id);
    expect((await alice.ctx.vault.db.getAll('outbox')).filter((r) => r.resendOf === gone.id)).toEqual([]);

    // The delete goes once the host is back; bob's copy is deleted and nothing else came.
    gate.down = false;
    alice.ctx.kickOutbox();
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob', 'hello alice', '']));
    await eventually(async () => expect(await alice.ctx.vault.db.count('outbox')).toBe(0));
  });
});

/**
 * Edit history (README "Message actions", "Groups": message actions; P47, P44, P32) through
 * engines on the REAL host: an edited message's versions, the current first, then the earlier
 * ones newest first with their times, for the sender and the receiver, in 1:1 chats and groups;
 * delete for everyone and a disappearing timer take the history with the message; search finds
 * only the current text. And actions that arrive before their group message survive the
 * receiver's reload (a sealed meta row, held-actions.ts), reaching only their sender's message in
 * their group.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { asUsername, type Username } from '../../src/lib/codec/username';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { encodeContent, newMessageId, type Content } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import { Engine } from '../../workers/engine/engine';
import { expireDue } from '../../workers/engine/expiry';
import { receiveGroupEnvelope } from '../../workers/engine/group-messages';
import { HELD_GROUP_META } from '../../workers/engine/held-actions';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { getGroup, putGroup, txGetGroupMessage } from '../../workers/storage/group-repo';
import { getMessage } from '../../workers/storage/message-repo';
import { commit } from '../../workers/storage/vault';
import type { MessageView } from '../../src/lib/vault/views';
import { eventually, realHostPerTest } from './real-host-support';
import { textOf } from './group-actions-support';

let engines: Engine[] = [];
let n = 0;
const real = realHostPerTest('parley-edithist-', async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function open(dbName: string, deps?: Deps): Promise<Engine> {
  const transport = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
  const e = await Engine.open({ transport, dbName, locks: memoryLocks(), retryMs: 50, ...(deps ? { deps } : {}) });
  engines.push(e);
  return e;
}

async function person(name: string, deps?: Deps): Promise<{ e: Engine; db: string }> {
  const db = `edithist-${name}-${process.pid}-${n++}`;
  const e = await open(db, deps);
  await e.createAccount(name);
  e.connect();
  return { e, db };
}

type Text = Extract<MessageView, { kind: 'text' }>;
async function text(e: Engine, chat: string, body: string): Promise<Text> {
  const m = (await e.listMessages(asUsername(chat))).find((x): x is Text => x.kind === 'text' && x.text === body);
  if (!m) throw new Error(`no "${body}" yet`);
  return m;
}

/** Alice and Bob on the real host, each with a text from the other (no message request in the way). */
async function pair(deps?: Deps) {
  const alice = await person('alice', deps);
  const bob = await person('bob', deps);
  await alice.e.lookupUser('bob');
  await alice.e.sendText(asUsername('bob'), 'hi bob');
  await eventually(async () => void (await text(bob.e, 'alice', 'hi bob')));
  await bob.e.sendText(asUsername('alice'), 'hi alice');
  await eventually(async () => void (await text(alice.e, 'bob', 'hi alice')));
  return { alice: alice.e, bob: bob.e };
}

/** Ann (admin) with Ben and Cat in `name`; each has written once, so all hold each other's sender keys. */
async function group(ann: Engine, ben: Engine, cat: Engine, name: string): Promise<string> {
  const id = await ann.createGroup(name, '', ['ben', 'cat']);
  for (const p of [ben, cat]) await eventually(async () => expect((await p.groupInfo(id)).members).toHaveLength(3));
  for (const [p, body] of [[ann, `hello ${name}`], [ben, `ben in ${name}`], [cat, `cat in ${name}`]] as const) {
    await p.sendGroupText(id, body);
    for (const q of [ann, ben, cat]) await eventually(async () => void (await textOf(q, id, body)));
  }
  return id;
}

/** Everything IndexedDB holds of the 1:1 row `key` and the group row `gkey`, as text (sealed bytes included). */
async function rawText(e: Engine, key: string, store: 'messages' | 'groupMessages' = 'messages'): Promise<string> {
  const row = await e.ctx.vault.db.get(store, key);
  return JSON.stringify(row) + (row ? new TextDecoder('utf-8', { fatal: false }).decode(row.sealed.ct) : '');
}

const texts = (vs: { text: string }[]) => vs.map((v) => v.text);

describe('edit history on the real host', () => {
  test('P47 P32 an edited 1:1 message shows its versions, the current first, then the earlier ones newest first, to the sender and the receiver; sealed at rest', async () => {
    const { alice, bob } = await pair();
    const m = await alice.sendText(asUsername('bob'), 'alpha 4711');
    await eventually(async () => void (await text(bob, 'alice', 'alpha 4711')));
    // Never edited: no versions to show.
    expect(await alice.messageEditHistory(asUsername('bob'), m.id)).toEqual([]);
    await alice.editMessage(asUsername('bob'), m.id, 'bravo 0815');
    await alice.editMessage(asUsername('bob'), m.id, 'charlie 1234');
    await eventually(async () => expect((await text(bob, 'alice', 'charlie 1234')).edited).toBe(true));
    for (const [e, chat, key] of [[alice, 'bob', m.id], [bob, 'alice', `alice:${m.id}`]] as const) {
      const versions = await e.messageEditHistory(asUsername(chat), key);
      expect(texts(versions)).toEqual(['charlie 1234', 'bravo 0815', 'alpha 4711']);
      // Newest first by the sender's clock: each version is younger than the one it replaced.
      expect(versions[0]!.at).toBeGreaterThan(versions[1]!.at);
      expect(versions[1]!.at).toBeGreaterThan(versions[2]!.at);
      expect(versions[2]!.at).toBe(m.at);
      // P32: no version is readable at rest. (Whole phrases: a bare "1234" also turns up by chance
      // in the row's hex keys and ids.)
      expect(await rawText(e, key)).not.toMatch(/alpha 4711|bravo 0815|charlie 1234/);
    }
    // Only inside its own chat (a key of another chat names nothing).
    await expect(bob.messageEditHistory(asUsername('carol'), `alice:${m.id}`)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.messageEditHistory(asUsername('bob'), 'ab'.repeat(16))).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  test('P44 delete for everyone takes the edit history too: the 1:1 tombstone keeps no earlier text on either side', async () => {
    const { alice, bob } = await pair();
    const m = await alice.sendText(asUsername('bob'), 'first 4711');
    await alice.editMessage(asUsername('bob'), m.id, 'second 0815');
    await eventually(async () => expect((await text(bob, 'alice', 'second 0815')).edited).toBe(true));
    expect(texts(await bob.messageEditHistory(asUsername('alice'), `alice:${m.id}`))).toEqual(['second 0815', 'first 4711']);
    await alice.deleteForEveryone(asUsername('bob'), m.id);
    await eventually(async () => expect((await bob.listMessages(asUsername('alice'))).find((x) => x.id === `alice:${m.id}`)).toMatchObject({ deleted: true }));
    for (const [e, chat, key] of [[alice, 'bob', m.id], [bob, 'alice', `alice:${m.id}`]] as const) {
      expect(await e.messageEditHistory(asUsername(chat), key)).toEqual([]);
      const row = await getMessage(e.ctx.vault, key);
      expect(row).toMatchObject({ body: '', extras: { deleted: true } });
      expect(JSON.stringify(row)).not.toMatch(/first 4711|second 0815|history/);
    }
  });

  test('P44 a disappearing message takes its edit history with it when it expires', async () => {
    let clock = Date.now();
    const deps: Deps = { ...systemDeps, now: () => clock };
    const { alice, bob } = await pair(deps);
    await alice.setDisappearing(asUsername('bob'), 300);
    const m = await alice.sendText(asUsername('bob'), 'soon gone 4711');
    await alice.editMessage(asUsername('bob'), m.id, 'edited, soon gone 0815');
    await eventually(async () => expect((await text(bob, 'alice', 'edited, soon gone 0815')).edited).toBe(true));
    expect(texts(await alice.messageEditHistory(asUsername('bob'), m.id))).toEqual(['edited, soon gone 0815', 'soon gone 4711']);
    await bob.markRead(asUsername('alice'));
    clock += 301_000;
    // Asking for it sweeps first: an expired message is never read, nor its history.
    await expect(alice.messageEditHistory(asUsername('bob'), m.id)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await bob.ctx.serial(() => expireDue(bob.ctx));
    await expect(bob.messageEditHistory(asUsername('alice'), `alice:${m.id}`)).rejects.toMatchObject({ code: 'InvalidArgument' });
    for (const [e, key] of [[alice, m.id], [bob, `alice:${m.id}`]] as const) expect(await e.ctx.vault.db.get('messages', key)).toBeUndefined();
  });

  test('P44 search finds an edited message by its current text only, never by an earlier version (1:1 and group)', async () => {
    const { alice, bob } = await pair();
    const m = await alice.sendText(asUsername('bob'), 'meet at the lighthouse');
    await eventually(async () => void (await text(bob, 'alice', 'meet at the lighthouse')));
    // The index is built before the edit (the first search backfills it).
    for (const e of [alice, bob]) expect((await e.searchMessages('lighthouse')).hits).toHaveLength(1);
    await alice.editMessage(asUsername('bob'), m.id, 'meet at the harbour');
    await eventually(async () => void (await text(bob, 'alice', 'meet at the harbour')));
    for (const e of [alice, bob]) {
      expect((await e.searchMessages('lighthouse')).hits).toEqual([]);
      expect((await e.searchMessages('harbour')).hits.map((h) => h.snippet)).toEqual(['meet at the harbour']);
    }

    const [gAnn, gBen, cat] = [(await person('ann')).e, (await person('ben')).e, (await person('cat')).e];
    const id = await group(gAnn, gBen, cat, 'Search');
    const mine = await textOf(gBen, id, 'ben in Search');
    expect((await cat.searchMessages('ben in search')).hits).toHaveLength(1);
    await gBen.editGroupMessage(id, mine.id, 'ben was here');
    await eventually(async () => void (await textOf(cat, id, 'ben was here')));
    for (const e of [gBen, cat]) {
      expect((await e.searchMessages('search')).hits.map((h) => h.snippet)).not.toContain('ben in Search');
      expect((await e.searchMessages('was here')).hits.map((h) => h.snippet)).toEqual(['ben was here']);
    }
  });

  test('P47 P32 P44 an edited group message shows its versions to its author and every member; delete for everyone takes them', async () => {
    const ann = (await person('ann')).e;
    const ben = (await person('ben')).e;
    const cat = (await person('cat')).e;
    const id = await group(ann, ben, cat, 'Climbing');
    const m = await textOf(cat, id, 'cat in Climbing');
    await cat.editGroupMessage(id, m.id, 'cat 4711');
    await cat.editGroupMessage(id, m.id, 'cat 0815');
    for (const p of [ann, ben]) await eventually(async () => expect((await textOf(p, id, 'cat 0815')).edited).toBe(true));
    for (const p of [ann, ben, cat]) {
      const key = (await textOf(p, id, 'cat 0815')).id;
      const versions = await p.groupMessageEditHistory(id, key);
      expect(texts(versions)).toEqual(['cat 0815', 'cat 4711', 'cat in Climbing']);
      expect(versions[0]!.at).toBeGreaterThan(versions[1]!.at);
      expect(versions[1]!.at).toBeGreaterThan(versions[2]!.at);
      expect(await rawText(p, key, 'groupMessages')).not.toMatch(/cat 4711|cat 0815|Climbing/);
      // Only inside its own group.
      await expect(p.groupMessageEditHistory('00'.repeat(16), key)).rejects.toMatchObject({ code: 'InvalidArgument' });
    }
    expect(await ann.groupMessageEditHistory(id, (await textOf(ann, id, 'hello Climbing')).id)).toEqual([]);

    await cat.deleteGroupMessageForEveryone(id, m.id);
    for (const p of [ann, ben, cat]) {
      await eventually(async () => expect((await p.listGroupMessages(id)).find((x) => x.kind === 'text' && x.deleted)).toBeDefined());
      const gone = (await p.listGroupMessages(id)).find((x) => x.kind === 'text' && x.deleted)!;
      expect(await p.groupMessageEditHistory(id, gone.id)).toEqual([]);
      const row = await commit(p.ctx.vault, (tx) => txGetGroupMessage(tx, gone.id));
      expect(row).toMatchObject({ body: '', deleted: true });
      expect(JSON.stringify(row)).not.toMatch(/cat 4711|cat 0815|cat in Climbing|history/);
    }
  });

  test('P47 P32 a group edit and reaction held before their message survive a reload, reach only their sender\'s message in their group, and stay sealed', async () => {
    const ann = await person('ann');
    const ben = (await person('ben')).e;
    const cat = (await person('cat')).e;
    const id = await group(ann.e, ben, cat, 'Climbing');
    const other = await group(ann.e, ben, cat, 'Running');
    // Members' modified clients: texts and actions under their real sender keys, handed to Ann in any order.
    async function deliver(to: Engine, gid: string, from: Engine, content: Content, targetAuthor?: string): Promise<void> {
      const g = (await getGroup(from.ctx.vault, gid))!;
      const head = g.history.head;
      const plain = encodeGroupText({ headVersion: head.version, headHash: stateHash(head), content: encodeContent(content), ...(targetAuthor ? { targetAuthor: targetAuthor as Username } : {}) });
      const out = groupEncrypt(g.our!, plain);
      await commit(from.ctx.vault, (tx) => putGroup(tx, { ...g, our: out.state }));
      await receiveGroupEnvelope(to.ctx, { serverId: newMessageId(systemDeps.rng), sender: from.ctx.me!.username, body: out.message, receivedAt: Date.now() });
    }
    const target = newMessageId(systemDeps.rng);
    await deliver(ann.e, id, ben, { kind: 'edit', target, sentAt: Date.now() + 5, text: 'final 4711' });
    await deliver(ann.e, id, ben, { kind: 'reaction', target, emoji: '🎉' }, 'ben');
    // Held: sealed in a meta row, nothing of it clear.
    const sealed = await ann.e.ctx.vault.db.get('meta', HELD_GROUP_META);
    expect(sealed).toBeDefined();
    expect(JSON.stringify(sealed) + new TextDecoder('utf-8', { fatal: false }).decode((sealed as { ct: Uint8Array }).ct)).not.toMatch(/final 4711|🎉|edit|ben/);

    // The same id from another member of the group, and from Ben in another group: neither is reached (P47).
    await deliver(ann.e, id, cat, { kind: 'text', id: target, sentAt: Date.now(), text: 'same id, from cat' });
    await deliver(ann.e, other, ben, { kind: 'text', id: target, sentAt: Date.now(), text: 'same id, other group' });
    for (const [gid, body] of [[id, 'same id, from cat'], [other, 'same id, other group']] as const) {
      const m = await textOf(ann.e, gid, body);
      expect(m.edited ?? m.reactions).toBeUndefined();
    }

    // Ann reloads: a new engine on the same database.
    await ann.e.close();
    engines = engines.filter((x) => x !== ann.e);
    const again = await open(ann.db);
    again.connect();
    await deliver(again, id, ben, { kind: 'text', id: target, sentAt: Date.now(), text: 'first draft' });
    const late = await textOf(again, id, 'final 4711');
    expect(late.edited).toBe(true);
    expect(late.reactions).toEqual([{ emoji: '🎉', count: 1, who: ['ben'], mine: false }]);
    expect(texts(await again.groupMessageEditHistory(id, late.id))).toEqual(['final 4711', 'first draft']);
    // Applied once: the row is gone, nothing waits any more.
    expect(await again.ctx.vault.db.get('meta', HELD_GROUP_META)).toBeUndefined();
  });
});

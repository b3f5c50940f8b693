/**
 * 1:1 actions held for a message not here yet, across a reload (README "Message actions";
 * workers/engine/held-actions.ts; P47, P32): real engines and sessions through the in-memory host,
 * whose envelope order the test controls as a malicious host would (the real host delivers in
 * order). The held set is a sealed meta row: the receiver's engine closes and reopens on the same
 * database between the action and its message, and the action still applies; it stays bounded by
 * count and by OUR clock; it only ever reaches its own sender's message.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { encodeContent, newMessageId, type Content } from '../../src/lib/wire/content';
import { HELD_META, HOLD_MS, MAX_HELD, MAX_HELD_BYTES, boundHeld } from '../../workers/engine/held-actions';
import { MemoryHost } from '../../workers/engine/memory-host';
import { openJson } from '../../workers/storage/record-seal';
import { addOutbox } from '../../workers/storage/outbox-repo';
import type { Sealed } from '../../workers/storage/schema';
import { commit } from '../../workers/storage/vault';
import type { MessageView } from '../../src/lib/vault/views';
import { closeAll, newUser, openUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** `from` sends raw content to `to` on its real session: what a modified client can do. */
async function sendRaw(from: User, to: string, c: Content): Promise<void> {
  await commit(from.engine.ctx.vault, (tx) => addOutbox(tx, { username: asUsername(to), content: encodeContent(c) }));
  from.engine.ctx.kickOutbox();
}

async function reopen(host: MemoryHost, u: User, deps: Deps): Promise<User> {
  await u.engine.close();
  open = open.filter((x) => x !== u);
  const again = await openUser(host, u.name, { deps }, u.dbName);
  open.push(again);
  again.engine.connect();
  return again;
}

type Text = Extract<MessageView, { kind: 'text' }>;
async function view(u: User, chat: string, key: string): Promise<Text> {
  const m = (await u.engine.listMessages(asUsername(chat))).find((x) => x.id === key);
  if (m?.kind !== 'text') throw new Error(`no text ${key} in ${u.name}'s chat with ${chat}`);
  return m;
}

async function setup() {
  const host = new MemoryHost();
  let clock = Date.now();
  const deps: Deps = { ...systemDeps, now: () => clock };
  const alice = await newUser(host, 'alice', { deps });
  const bob = await newUser(host, 'bob', { deps });
  const carol = await newUser(host, 'carol', { deps });
  open.push(alice, bob, carol);
  for (const [from, to] of [[bob, 'alice'], [carol, 'alice']] as const) await from.engine.lookupUser(to);
  await bob.engine.sendText(asUsername('alice'), 'warm up');
  await carol.engine.sendText(asUsername('alice'), 'warm up');
  await settle(alice, bob, carol);
  return { host, deps, alice, bob, carol, advance: (ms: number) => (clock += ms) };
}

describe('held 1:1 actions across a reload', () => {
  test('P47 P32 an edit and a reaction that arrived before their message are applied after the receiver reloads; the same id from another sender is not reached', async () => {
    const { host, deps, alice: a0, bob, carol } = await setup();
    const id = newMessageId(systemDeps.rng);
    // Bob's edit and reaction reach Alice before his message (a host reordering or withholding it).
    await sendRaw(bob, 'alice', { kind: 'edit', target: id, sentAt: Date.now() + 5, text: 'final 4711' });
    await sendRaw(bob, 'alice', { kind: 'reaction', target: id, emoji: '🎉' });
    await settle(a0, bob);
    // Held in a sealed meta row: nothing of it is clear at rest.
    const sealed = (await a0.engine.ctx.vault.db.get('meta', HELD_META)) as Sealed;
    expect(JSON.stringify(sealed) + new TextDecoder('utf-8', { fatal: false }).decode(sealed.ct)).not.toMatch(/final 4711|🎉|bob|edit/);
    expect(openJson<{ e: unknown[] }>(a0.engine.ctx.vault.db, 'meta', HELD_META, sealed).e).toHaveLength(2);
    // Carol's message with the same id is hers: Bob's held actions never reach it (P47).
    await sendRaw(carol, 'alice', { kind: 'text', id, sentAt: Date.now(), text: 'carol, same id' });
    await settle(a0, carol);
    const hers = await view(a0, 'carol', `carol:${id}`);
    expect(hers.text).toBe('carol, same id');
    expect(hers.edited ?? hers.reactions).toBeUndefined();

    // Alice reloads (engine closed and reopened on the same database), then Bob's message arrives.
    const alice = await reopen(host, a0, deps);
    await sendRaw(bob, 'alice', { kind: 'text', id, sentAt: Date.now(), text: 'first draft' });
    await settle(alice, bob);
    expect(await view(alice, 'bob', `bob:${id}`)).toMatchObject({ text: 'final 4711', edited: true, reactions: [{ emoji: '🎉', count: 1, mine: false }] });
    expect((await alice.engine.messageEditHistory(asUsername('bob'), `bob:${id}`)).map((v) => v.text)).toEqual(['final 4711', 'first draft']);
    // Applied once: nothing waits any more.
    expect(await alice.engine.ctx.vault.db.get('meta', HELD_META)).toBeUndefined();
  });

  test('P46 P32 a held action is re-sealed with the data key rotation of the app lock and still applies', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice', { appLockKdf: { opslimit: 1, memlimitBytes: 8192 } });
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    await bob.engine.lookupUser('alice');
    await bob.engine.sendText(asUsername('alice'), 'warm up');
    await settle(alice, bob);
    const id = newMessageId(systemDeps.rng);
    await sendRaw(bob, 'alice', { kind: 'edit', target: id, sentAt: Date.now() + 5, text: 'final' });
    await settle(alice, bob);
    const before = (await alice.engine.ctx.vault.db.get('meta', HELD_META)) as Sealed;
    await alice.engine.locks.enableLock('velvet tundra quiz marmalade osprey 93', 5);
    const after = (await alice.engine.ctx.vault.db.get('meta', HELD_META)) as Sealed;
    expect(after.ct).not.toEqual(before.ct);
    await sendRaw(bob, 'alice', { kind: 'text', id, sentAt: Date.now(), text: 'draft' });
    await settle(alice, bob);
    expect(await view(alice, 'bob', `bob:${id}`)).toMatchObject({ text: 'final', edited: true });
  });

  test('P47 a flood of held actions stays bounded across a reload (the newest MAX_HELD), and they expire by our clock, not the envelope\'s', async () => {
    const { host, deps, alice: a0, bob, advance } = await setup();
    const ids = Array.from({ length: MAX_HELD + 6 }, () => newMessageId(systemDeps.rng));
    for (const t of ids) await sendRaw(bob, 'alice', { kind: 'reaction', target: t, emoji: '👀' });
    await settle(a0, bob);
    const alice = await reopen(host, a0, deps);
    const stored = (await alice.engine.ctx.vault.db.get('meta', HELD_META)) as Sealed;
    expect(openJson<{ e: unknown[] }>(alice.engine.ctx.vault.db, 'meta', HELD_META, stored).e).toHaveLength(MAX_HELD);
    // The oldest were pushed out; the newest still wait.
    await sendRaw(bob, 'alice', { kind: 'text', id: ids[0]!, sentAt: Date.now(), text: 'pushed out' });
    await sendRaw(bob, 'alice', { kind: 'text', id: ids.at(-1)!, sentAt: Date.now(), text: 'still waited for' });
    await settle(alice, bob);
    expect((await view(alice, 'bob', `bob:${ids[0]}`)).reactions).toBeUndefined();
    expect((await view(alice, 'bob', `bob:${ids.at(-1)}`)).reactions).toEqual([{ emoji: '👀', count: 1, mine: false }]);
    // A minute later by our clock the rest are forgotten, however the envelope is dated.
    advance(HOLD_MS + 1);
    await sendRaw(bob, 'alice', { kind: 'text', id: ids.at(-2)!, sentAt: Date.now() - HOLD_MS * 10, text: 'too late' });
    await settle(alice, bob);
    expect((await view(alice, 'bob', `bob:${ids.at(-2)}`)).reactions).toBeUndefined();
    expect(await alice.engine.ctx.vault.db.get('meta', HELD_META)).toBeUndefined();
  });
});

describe('held actions are bounded in bytes (P47)', () => {
  test('a flood of large held edits keeps only the newest that fit, whatever their count', () => {
    const now = 1_000_000;
    const big = 'x'.repeat(60 * 1024);
    const flood = Array.from({ length: MAX_HELD }, (_, i) => ({ at: now - MAX_HELD + i, n: i, text: big }));
    const kept = boundHeld(flood, now);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(MAX_HELD_BYTES + kept.length + 8);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(MAX_HELD);
    expect(kept.at(-1)!.n).toBe(MAX_HELD - 1);
    // Small actions are not cut by the byte bound.
    const small = Array.from({ length: MAX_HELD }, (_, i) => ({ at: now - i, n: i }));
    expect(boundHeld(small, now)).toHaveLength(MAX_HELD);
  });
});

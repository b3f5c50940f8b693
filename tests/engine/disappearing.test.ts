/**
 * Disappearing messages between real engines through an in-memory host (workers/engine/
 * disappearing.ts, expiry.ts, message-removal.ts; SECURITY.md P44): the timer is agreed inside
 * the ratchet and converges under concurrent changes; a message expires on the sender T after
 * sending and on the recipient T after it was read, under the timer it was SENT with; the sweep
 * catches up after a restart; nothing of an expired message stays in IndexedDB (row, preview,
 * outbox) and a reply quoting it shows "expired". Time is a fake clock every engine shares: no
 * test waits for a timer.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { MemoryHost } from '../../workers/engine/memory-host';
import { asUsername } from '../../src/lib/codec/username';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import type { MessageView } from '../../src/lib/vault/views';
import { addOutbox } from '../../workers/storage/outbox-repo';
import { commit } from '../../workers/storage/vault';
import { getChat } from '../../workers/storage/chat-repo';
import { expireDue } from '../../workers/engine/expiry';
import { closeAll, newUser, openUser, settle, type User } from './support';

const MIN = 60_000;
let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

/** A clock all engines of a test share; moved only by the test. */
function fakeClock(start = 1_800_000_000_000): Deps & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return { rng: systemDeps.rng, now: () => t, advance: (ms) => (t += ms), set: (ms) => (t = ms) };
}

async function pair(clock = fakeClock()) {
  const host = new MemoryHost();
  const alice = await newUser(host, 'alice', { deps: clock });
  const bob = await newUser(host, 'bob', { deps: clock });
  open.push(alice, bob);
  await alice.engine.lookupUser('bob');
  // A first exchange, so both know each other (no message request, P42).
  await alice.engine.sendText(asUsername('bob'), 'hi bob');
  await settle(alice, bob);
  await bob.engine.sendText(asUsername('alice'), 'hi alice');
  await settle(alice, bob);
  await alice.engine.markRead(asUsername('bob'));
  await bob.engine.markRead(asUsername('alice'));
  await settle(alice, bob);
  return { host, alice, bob, clock };
}

const timer = async (u: User, chat: string) => (await u.engine.listChats()).find((c) => c.username === chat)?.disappearing;
const notices = async (u: User, chat: string) =>
  (await u.engine.listMessages(asUsername(chat))).flatMap((m) => (m.kind === 'notice' && m.notice.startsWith('disappearing:') ? [m.notice] : []));
const ids = async (u: User, chat: string) => (await u.engine.listMessages(asUsername(chat))).map((m) => m.id);

/** Every key in the raw `messages` store and every outbox row naming a message: what IndexedDB holds, sealed or not. */
async function rawRows(u: User): Promise<{ messages: string[]; outbox: (string | undefined)[] }> {
  const db = u.engine.ctx.vault.db;
  return { messages: (await db.getAllKeys('messages')).map(String), outbox: (await db.getAll('outbox')).map((r) => r.messageKey) };
}

describe('P44 disappearing messages', () => {
  test('P44 a timer set by either side applies to both, announced in both conversations; the host carries only ciphertext', async () => {
    const { host, alice, bob, clock } = await pair();
    const before = host.sent.length;
    await alice.engine.setDisappearing(asUsername('bob'), 86_400);
    await settle(alice, bob);
    expect(await timer(alice, 'bob')).toBe(86_400);
    expect(await timer(bob, 'alice')).toBe(86_400);
    expect(await notices(alice, 'bob')).toEqual(['disappearing:out:86400']);
    expect(await notices(bob, 'alice')).toEqual(['disappearing:in:86400']);
    // One envelope went (and nothing readable: the change is inside the ratchet).
    const sent = host.sent.slice(before).filter((s) => s.from === 'alice');
    expect(sent.length).toBe(1);

    clock.advance(1000);
    await bob.engine.setDisappearing(asUsername('alice'), 0);
    await settle(alice, bob);
    expect(await timer(alice, 'bob')).toBe(0);
    expect(await timer(bob, 'alice')).toBe(0);
    expect(await notices(alice, 'bob')).toEqual(['disappearing:out:86400', 'disappearing:in:0']);
    // Setting what is already set sends nothing.
    const n = host.sent.length;
    await bob.engine.setDisappearing(asUsername('alice'), 0);
    await settle(alice, bob);
    expect(host.sent.length).toBe(n);
    // A value outside the list is refused before anything changes.
    await expect(alice.engine.setDisappearing(asUsername('bob'), 120)).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await timer(alice, 'bob')).toBe(0);
  });

  test('P44 concurrent changes converge: the latest by sender clock wins, a tie goes to the shorter timer on both sides', async () => {
    const { alice, bob, clock } = await pair();
    // Same millisecond, neither has seen the other's change.
    await alice.engine.disconnect();
    await bob.engine.disconnect();
    await alice.engine.setDisappearing(asUsername('bob'), 604_800);
    await bob.engine.setDisappearing(asUsername('alice'), 3600);
    await alice.engine.connect();
    await bob.engine.connect();
    await settle(alice, bob);
    expect(await timer(alice, 'bob')).toBe(3600);
    expect(await timer(bob, 'alice')).toBe(3600);

    // Different times, delivered in the "wrong" order: the later change still wins everywhere.
    await alice.engine.disconnect();
    await bob.engine.disconnect();
    await bob.engine.setDisappearing(asUsername('alice'), 300);
    clock.advance(1000);
    await alice.engine.setDisappearing(asUsername('bob'), 28_800);
    await alice.engine.connect();
    await settle(alice, bob);
    await bob.engine.connect();
    await settle(alice, bob);
    expect(await timer(alice, 'bob')).toBe(28_800);
    expect(await timer(bob, 'alice')).toBe(28_800);
  });

  test('P44 a message goes from the sender T after sending and from the recipient T after reading, leaving no row, preview or outbox item', async () => {
    const { alice, bob, clock } = await pair();
    await alice.engine.setDisappearing(asUsername('bob'), 300);
    await settle(alice, bob);
    const sent = await alice.engine.sendText(asUsername('bob'), 'self-destructs');
    await settle(alice, bob);
    const theirs = `alice:${sent.id}`;
    expect(await ids(bob, 'alice')).toContain(theirs);

    // Bob has not opened the chat: his clock has not started.
    clock.advance(5 * MIN + 1);
    await alice.engine.ctx.serial(() => expireDue(alice.engine.ctx));
    await bob.engine.ctx.serial(() => expireDue(bob.engine.ctx));
    expect(await ids(alice, 'bob')).not.toContain(sent.id);
    expect((await rawRows(alice)).messages).not.toContain(sent.id);
    expect((await rawRows(alice)).outbox).not.toContain(sent.id);
    expect((await getChat(alice.engine.ctx.vault, asUsername('bob')))!.lastPreview).toBe('Message expired');
    expect(await ids(bob, 'alice')).toContain(theirs);

    // Bob reads it: gone T later, not before.
    await bob.engine.markRead(asUsername('alice'));
    clock.advance(5 * MIN - 1);
    expect(await bob.engine.ctx.serial(() => expireDue(bob.engine.ctx))).toBe(0);
    expect(await ids(bob, 'alice')).toContain(theirs);
    clock.advance(1);
    expect(await bob.engine.ctx.serial(() => expireDue(bob.engine.ctx))).toBe(1);
    expect((await rawRows(bob)).messages).not.toContain(theirs);
    const chat = (await bob.engine.listChats()).find((c) => c.username === 'alice')!;
    expect(chat.lastPreview).toBe('Message expired');
    expect(chat.unread).toBe(0);
    // Messages sent before the timer was set stay.
    expect((await alice.engine.listMessages(asUsername('bob'))).some((m) => m.kind === 'text' && m.text === 'hi bob')).toBe(true);
  });

  test('P44 a message expires under the timer it was sent with, even after the chat timer changes', async () => {
    const { alice, bob, clock } = await pair();
    await alice.engine.setDisappearing(asUsername('bob'), 300);
    await settle(alice, bob);
    const short = await alice.engine.sendText(asUsername('bob'), 'five minutes');
    await settle(alice, bob);
    await bob.engine.setDisappearing(asUsername('alice'), 604_800);
    await settle(alice, bob);
    const long = await alice.engine.sendText(asUsername('bob'), 'one week');
    await settle(alice, bob);
    await bob.engine.markRead(asUsername('alice'));
    clock.advance(5 * MIN);
    for (const u of [alice, bob]) await u.engine.ctx.serial(() => expireDue(u.engine.ctx));
    expect(await ids(alice, 'bob')).not.toContain(short.id);
    expect(await ids(bob, 'alice')).not.toContain(`alice:${short.id}`);
    expect(await ids(alice, 'bob')).toContain(long.id);
    expect(await ids(bob, 'alice')).toContain(`alice:${long.id}`);
    clock.advance(7 * 24 * 60 * MIN);
    for (const u of [alice, bob]) await u.engine.ctx.serial(() => expireDue(u.engine.ctx));
    expect(await ids(alice, 'bob')).not.toContain(long.id);
    expect(await ids(bob, 'alice')).not.toContain(`alice:${long.id}`);
  });

  test('P44 after a restart the sweep catches up on what expired while the browser was closed; a reply to it shows "expired"', async () => {
    const clock = fakeClock();
    const { host, alice, bob } = await pair(clock);
    await alice.engine.setDisappearing(asUsername('bob'), 3600);
    await settle(alice, bob);
    const sent = await alice.engine.sendText(asUsername('bob'), 'gone by morning');
    await settle(alice, bob);
    await bob.engine.markRead(asUsername('alice'));
    const reply = await bob.engine.sendReply(asUsername('alice'), `alice:${sent.id}`, 'noted');
    await settle(alice, bob);

    // Both browsers close; eight hours pass; they open again and nobody calls the sweep.
    await closeAll(alice, bob);
    open = [];
    clock.advance(8 * 60 * MIN);
    const alice2 = await openUser(host, 'alice', { deps: clock }, alice.dbName);
    const bob2 = await openUser(host, 'bob', { deps: clock }, bob.dbName);
    open.push(alice2, bob2);
    await settle(alice2, bob2);
    expect((await rawRows(alice2)).messages).not.toContain(sent.id);
    expect((await rawRows(bob2)).messages).not.toContain(`alice:${sent.id}`);
    // The reply (sent under the same timer, read by nobody on alice's side yet) is still on alice's side, its quote expired.
    const quoted = (await alice2.engine.listMessages(asUsername('bob'))).find((m): m is Extract<MessageView, { kind: 'text' }> => m.id === `bob:${reply.id}`);
    expect(quoted?.quote).toEqual({ id: sent.id, direction: 'out', expired: true });
  });

  test('P44 reading the conversation or the chat list removes what is due even when no timer fired (a throttled or slept tab)', async () => {
    const { alice, bob, clock } = await pair();
    await alice.engine.setDisappearing(asUsername('bob'), 300);
    await settle(alice, bob);
    const sent = await alice.engine.sendText(asUsername('bob'), 'gone on the next look');
    await settle(alice, bob);
    clock.advance(5 * MIN);
    // No sweep was called: the page asks for the conversation, and it is already gone.
    const page = await alice.engine.listMessagePage(asUsername('bob'));
    expect(page.messages.map((m) => m.id)).not.toContain(sent.id);
    expect((await rawRows(alice)).messages).not.toContain(sent.id);
    await bob.engine.markRead(asUsername('alice'));
    clock.advance(5 * MIN);
    const chats = await bob.engine.listChats();
    expect(chats.find((c) => c.username === 'alice')?.lastPreview).toBe('Message expired');
    expect((await rawRows(bob)).messages).not.toContain(`alice:${sent.id}`);
  });

  test('P44 a change whose envelope was lost is learned from the next message, on both sides, with its notice', async () => {
    const { host, alice, bob, clock } = await pair();
    await bob.engine.disconnect();
    clock.advance(1000);
    await alice.engine.setDisappearing(asUsername('bob'), 3600);
    await settle(alice);
    // The host loses the change (it sits unacked in bob's mailbox; it never reaches him).
    const box = host.mailboxes.get('bob')!;
    expect(box.length).toBe(1);
    box.length = 0;
    clock.advance(1000);
    await alice.engine.sendText(asUsername('bob'), 'under the timer');
    await bob.engine.connect();
    await settle(alice, bob);
    expect(await timer(bob, 'alice')).toBe(3600);
    expect(await notices(bob, 'alice')).toEqual(['disappearing:in:3600']);
    // The notice comes before the message that taught it; the message keeps its own timer.
    const list = await bob.engine.listMessages(asUsername('alice'));
    const at = (pred: (m: MessageView) => boolean) => list.findIndex(pred);
    expect(at((m) => m.kind === 'notice' && m.notice === 'disappearing:in:3600')).toBeLessThan(at((m) => m.kind === 'text' && m.text === 'under the timer'));
    // Bob's reply carries the same setting: nothing flips back on alice's side, and turning it
    // off later (a setting too) is learned the same way.
    await bob.engine.sendText(asUsername('alice'), 'ok');
    await settle(alice, bob);
    expect(await timer(alice, 'bob')).toBe(3600);
    expect(await notices(alice, 'bob')).toEqual(['disappearing:out:3600']);
    await bob.engine.disconnect();
    clock.advance(1000);
    await alice.engine.setDisappearing(asUsername('bob'), 0);
    await settle(alice);
    host.mailboxes.get('bob')!.length = 0;
    await alice.engine.sendText(asUsername('bob'), 'stays now');
    await bob.engine.connect();
    await settle(alice, bob);
    expect(await timer(bob, 'alice')).toBe(0);
    expect(await notices(bob, 'alice')).toEqual(['disappearing:in:3600', 'disappearing:in:0']);
  });

  test('P44 a message sent under an older setting, crossing a newer change, changes nothing on either side', async () => {
    const { alice, bob, clock } = await pair();
    await alice.engine.setDisappearing(asUsername('bob'), 3600);
    await settle(alice, bob);
    // Bob writes under the hour, offline; meanwhile alice changes to five minutes.
    await bob.engine.disconnect();
    await alice.engine.disconnect();
    clock.advance(1000);
    await bob.engine.sendText(asUsername('alice'), 'written under the hour');
    clock.advance(1000);
    await alice.engine.setDisappearing(asUsername('bob'), 300);
    await bob.engine.connect();
    await settle(bob);
    await alice.engine.connect();
    await settle(alice, bob);
    expect(await timer(alice, 'bob')).toBe(300);
    expect(await timer(bob, 'alice')).toBe(300);
    expect(await notices(alice, 'bob')).toEqual(['disappearing:out:3600', 'disappearing:out:300']);
    // The crossing message still expires under the hour it was sent with (a clear field of its row).
    const rows = await alice.engine.ctx.vault.db.getAll('messages');
    expect(rows.filter((m) => m.direction === 'in' && m.expireTimer !== undefined).map((m) => m.expireTimer)).toEqual([3600]);
  });

  test('P44 P42 a timer change alone from a stranger opens no chat', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const carol = await newUser(host, 'carol');
    open.push(alice, carol);
    await carol.engine.lookupUser('alice');
    await commit(carol.engine.ctx.vault, (tx) => addOutbox(tx, { username: asUsername('alice'), content: new Uint8Array([1, 0x11, 0, 0, 1, 0x2c, 0, 0, 0, 0, 0, 0, 0, 1]) }));
    carol.engine.ctx.kickOutbox();
    await settle(alice, carol);
    expect(host.sent.filter((s) => s.from === 'carol').length).toBe(1);
    expect(await alice.engine.listChats()).toEqual([]);
  });

  test('P44 a timer change under a bad value from the peer is refused and loses nothing; the next good one applies', async () => {
    const { alice, bob } = await pair();
    await alice.engine.setDisappearing(asUsername('bob'), 86_400);
    await settle(alice, bob);
    const before = await ids(bob, 'alice');
    // A modified client: version 1, kind 0x11, 7200 seconds (not in the list), setAt far ahead.
    const bad = new Uint8Array([1, 0x11, 0, 0, 0x1c, 0x20, 0, 0, 0x7f, 0, 0, 0, 0, 0]);
    await commit(alice.engine.ctx.vault, (tx) => addOutbox(tx, { username: asUsername('bob'), content: bad }));
    alice.engine.ctx.kickOutbox();
    await settle(alice, bob);
    expect(await timer(bob, 'alice')).toBe(86_400);
    // Every message stays; the refused envelope shows as one "could not be read" marker (P14).
    const after = await bob.engine.listMessages(asUsername('alice'));
    expect(after.map((m) => m.id)).toEqual(expect.arrayContaining(before));
    expect(after.filter((m) => !before.includes(m.id)).map((m) => (m.kind === 'notice' ? m.notice : m.kind))).toEqual(['undecryptable']);
    const failures = await bob.engine.ctx.vault.db.getAll('failures');
    expect(failures.at(-1)?.code).toBe('DecodeFailed');
    // The session is intact: the next change and text arrive.
    await alice.engine.setDisappearing(asUsername('bob'), 300);
    await alice.engine.sendText(asUsername('bob'), 'still here');
    await settle(alice, bob);
    expect(await timer(bob, 'alice')).toBe(300);
    expect((await bob.engine.listMessages(asUsername('alice'))).some((m) => m.kind === 'text' && m.text === 'still here')).toBe(true);
  });
});

/**
 * One driver per account across tabs (DESIGN.md §5; SECURITY.md P18): two engines on the same
 * database share a lock manager; only the holder connects and runs ratchets, the follower sees
 * the driver's events, and closing the driver hands over to the follower. Without a lock manager
 * no tab drives (fail closed). The tab channel is open to any script of the origin (P31): only
 * messages sealed by this account's vault, fresh, new and well-formed are ever emitted.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { ByteWriter } from '../../src/lib/codec/bytes';
import { encodeCallSignal } from '../../src/lib/wire/call';
import { BUSY_TTL_MS, tabCallsOver } from '../../src/lib/client/calls/tab-calls';
import { sealBytes } from '../../workers/storage/record-seal';
import { memoryLocks, TAB_MESSAGE_WINDOW_MS, type SealedTabMessage, type TabChannel } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import type { EngineEvent } from '../../workers/engine/events';
import type { Engine } from '../../workers/engine/engine';
import { closeAll, newUser, openUser, settle, texts, type User } from './support';

const offer = (sentAt: number) =>
  encodeCallSignal({ type: 'offer', callId: 'ca'.repeat(16), peerId: 'be'.repeat(16), dtlsFingerprint: new Uint8Array(32).fill(7), media: 'audio', sentAt });

/** The tab channel's refusal count (a private field: read for the test only). */
const refused = (e: Engine) => (e['channel'] as TabChannel).refused;

/** A message sealed with `user`'s real vault key, as only a vault worker of that account could. */
function sealedBy(user: User, json: string, o: { at?: number; name?: string } = {}): SealedTabMessage {
  const plaintext = new ByteWriter().u64(o.at ?? Date.now()).raw(new TextEncoder().encode(json)).finish();
  return sealBytes(user.engine.ctx.vault.db, 'tab-channel', o.name ?? `parley-tabs:${user.name}`, plaintext);
}

/** Lets BroadcastChannel deliveries (a macrotask each) happen. */
const deliver = () => new Promise((r) => setTimeout(r, 50));

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

describe('tabs', () => {
  test('P18 only one tab drives; the follower queues, hears events, and takes over when the driver closes', async () => {
    const host = new MemoryHost();
    const locks = memoryLocks();
    const alice = await newUser(host, 'alice');
    const tab1 = await newUser(host, 'bob', { locks });
    const tab2 = await openUser(host, 'bob', { locks }, tab1.dbName);
    open.push(alice, tab2);
    const seen: EngineEvent[] = [];
    tab2.engine.subscribe((e) => seen.push(e));
    tab2.engine.connect();
    await settle(alice, tab1, tab2);
    expect(tab1.engine.ctx.driver).toBe(true);
    expect(tab2.engine.ctx.driver).toBe(false);
    expect(host.sinks.size).toBe(2); // alice and ONE bob tab

    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'to both tabs');
    await settle(alice, tab1, tab2);
    // Follower reads the same history from IndexedDB and heard the driver's event.
    expect(await texts(tab2, 'alice')).toEqual(['to both tabs']);
    expect(seen.some((e) => e.type === 'message')).toBe(true);

    // A follower's send is queued and flushed by the driver.
    await tab2.engine.sendText('alice', 'from tab 2');
    await settle(alice, tab1, tab2);
    expect(await texts(alice, 'bob')).toEqual(['to both tabs', 'from tab 2']);

    // The driver tab closes: tab 2 takes over and receives.
    await tab1.engine.close();
    await settle(alice, tab2);
    expect(tab2.engine.ctx.driver).toBe(true);
    await alice.engine.sendText('bob', 'after takeover');
    await settle(alice, tab2);
    expect(await texts(tab2, 'alice')).toEqual(['to both tabs', 'from tab 2', 'after takeover']);
  });

  test('P18 without Web Locks no tab drives: both are read-only, nothing connects or decrypts, and nothing is lost', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    // No lock manager (a browser without Web Locks; Node has no navigator.locks either).
    const tab1 = await newUser(host, 'bob', { locks: undefined });
    const tab2 = await openUser(host, 'bob', { locks: undefined }, tab1.dbName);
    open.push(alice, tab2);
    tab2.engine.connect();
    await settle(alice, tab1, tab2);
    expect(tab1.engine.ctx.driver).toBe(false);
    expect(tab2.engine.ctx.driver).toBe(false);
    expect(host.sinks.has('bob')).toBe(false); // no bob tab holds a socket

    await alice.engine.lookupUser('bob');
    await alice.engine.sendText('bob', 'waits on the host');
    await settle(alice, tab1, tab2);
    expect(await texts(tab1, 'alice')).toEqual([]);

    // The same browser profile with Web Locks again: one tab drives and gets it, once.
    await tab1.engine.close();
    await tab2.engine.close();
    open = [alice];
    const later = await openUser(host, 'bob', { locks: memoryLocks() }, tab1.dbName);
    open.push(later);
    later.engine.connect();
    await settle(alice, later);
    expect(later.engine.ctx.driver).toBe(true);
    expect(await texts(later, 'alice')).toEqual(['waits on the host']);
  });

  test('P31 forged, foreign, stale, replayed or malformed tab messages are never emitted; the driver\'s own are', async () => {
    const host = new MemoryHost();
    const locks = memoryLocks();
    const alice = await newUser(host, 'alice');
    const driver = await newUser(host, 'bob', { locks });
    const follower = await openUser(host, 'bob', { locks }, driver.dbName);
    const stranger = await newUser(host, 'bob_other');
    open.push(alice, follower, stranger);
    await settle(alice, driver, follower);
    expect(driver.engine.ctx.driver).toBe(true);
    const heard: EngineEvent[] = [];
    for (const tab of [driver, follower]) tab.engine.subscribe((e) => heard.push(e));

    // Any script of the origin can post on the account's channel.
    const page = new BroadcastChannel('parley-tabs:bob');
    const captured: unknown[] = [];
    page.onmessage = (e: MessageEvent<unknown>) => captured.push(e.data);
    const now = Date.now();
    const call = (extra = '') => `{"kind":"event","event":{"type":"call","username":"alice","signal":"${Buffer.from(offer(now)).toString('base64url')}"${extra}}}`;
    const forged: unknown[] = [
      // The unsealed form the channel used to carry.
      { kind: 'event', event: { type: 'call', username: 'alice', signal: offer(now) } },
      { kind: 'event', event: { type: 'signed-out' } },
      { iv: new Uint8Array(24), ct: new Uint8Array(64) },
      // Sealed by another account's vault, or for another channel name.
      sealedBy({ ...stranger, name: 'bob' }, call()),
      sealedBy(driver, call(), { name: 'parley-tabs:alice' }),
      // Sealed by this vault but stale, from the future, or not a message the driver can send.
      sealedBy(driver, call(), { at: now - TAB_MESSAGE_WINDOW_MS - 1000 }),
      sealedBy(driver, call(), { at: now + TAB_MESSAGE_WINDOW_MS + 1000 }),
      sealedBy(driver, call(',"extra":1')),
      sealedBy(driver, '{"kind":"event","event":{"type":"role","role":"driver"}}'),
      sealedBy(driver, '{"kind":"event","event":{"type":"message","username":"Alice!","id":"x"}}'),
      sealedBy(driver, 'not json')
    ];
    for (const m of forged) page.postMessage(m);
    await deliver();
    expect(heard).toEqual([]);
    expect(refused(driver.engine)).toBe(forged.length);
    expect(refused(follower.engine)).toBe(forged.length);

    // A real call signal reaches the driver through the ratchet, and the follower through the channel.
    // (Bob knows alice: a message request's calls never ring, P42.)
    await driver.engine.lookupUser('alice');
    await alice.engine.lookupUser('bob');
    await alice.engine.sendCallSignal('bob', offer(Date.now()));
    await settle(alice, driver, follower);
    await deliver();
    const calls = heard.filter((e) => e.type === 'call');
    expect(calls).toHaveLength(2);
    // Bob never wrote to alice: both tabs hear it is not a contact's call (relay-only with TURN, P42).
    expect(calls.map((c) => c.contact)).toEqual([false, false]);
    expect(captured.length).toBeGreaterThan(0);

    // Replaying what the driver sent rings nobody again, in either tab.
    heard.length = 0;
    for (const m of captured) page.postMessage(m);
    await deliver();
    expect(heard).toEqual([]);
    page.close();
  });

  test('P31 the tabs\' call coordination believes only well-formed messages, and a claimed busy lapses within BUSY_TTL_MS', () => {
    let t = 1_000_000;
    const channel = { postMessage: () => undefined, onmessage: null as ((ev: MessageEvent<unknown>) => void) | null, close: () => undefined };
    const tabs = tabCallsOver(channel, () => t, 'me');
    const taken: string[] = [];
    tabs.onTaken((id) => taken.push(id));
    const post = (data: unknown) => channel.onmessage!({ data } as MessageEvent<unknown>);
    for (const m of [
      { type: 'taken', callId: 'not hex' },
      { type: 'taken', callId: 'ca'.repeat(16), extra: true },
      { type: 'busy', tab: 'x'.repeat(65), until: t + 1000 },
      { type: 'busy', tab: 'other', until: Number.POSITIVE_INFINITY },
      { type: 'busy', tab: 'other', until: '9' },
      { type: 'free' },
      null
    ])
      post(m);
    expect(taken).toEqual([]);
    expect(tabs.busyElsewhere()).toBe(false);

    post({ type: 'taken', callId: 'ca'.repeat(16) });
    expect(taken).toEqual(['ca'.repeat(16)]);
    // "Busy for a year" counts for BUSY_TTL_MS only.
    post({ type: 'busy', tab: 'other', until: t + 365 * 86_400_000 });
    expect(tabs.busyElsewhere()).toBe(true);
    t += BUSY_TTL_MS + 1;
    expect(tabs.busyElsewhere()).toBe(false);
    tabs.close();
  });
});

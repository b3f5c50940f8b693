/**
 * Calls in the engine (DESIGN.md §6): call signals travel as content kind 'call' inside the Double Ratchet
 * (the host only ever holds ciphertext), arrive as a `call` event and are never stored as
 * messages; each call leaves one conversation entry, keyed by call id.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { decodeContent, encodeContent, MAX_CALL_SIGNAL_BYTES } from '../../src/lib/wire/content';
import { decodeCallSignal, encodeCallSignal, type CallOffer } from '../../src/lib/wire/call';
import type { EngineEvent } from '../../workers/engine/events';
import { MemoryHost } from '../../workers/engine/memory-host';
import { closeAll, newUser, settle, type User } from './support';

let open: User[] = [];
afterEach(async () => {
  await closeAll(...open);
  open = [];
});

const offer: CallOffer = {
  type: 'offer',
  callId: 'c0'.repeat(16),
  peerId: '7e'.repeat(16),
  dtlsFingerprint: Uint8Array.from({ length: 32 }, (_, i) => 200 - i),
  media: 'video',
  sentAt: 1_800_000_000_000
};

/** Alice and Bob on `host` with a session: alice has said "hi" and bob has it. */
async function talking(host: MemoryHost): Promise<{ alice: User; bob: User }> {
  const alice = await newUser(host, 'alice');
  const bob = await newUser(host, 'bob');
  open.push(alice, bob);
  await alice.engine.sendText('bob', 'hi');
  await settle(alice, bob);
  // P42: a stranger's calls never ring; bob accepts alice's request first.
  await bob.engine.acceptRequest('alice');
  await settle(alice, bob);
  return { alice, bob };
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('call signals through the ratchet', () => {
  test('content kind call round-trips and is bounded', () => {
    const signal = encodeCallSignal(offer);
    expect(decodeContent(encodeContent({ kind: 'call', signal }))).toEqual({ kind: 'call', signal });
    expect(() => encodeContent({ kind: 'call', signal: new Uint8Array(0) })).toThrow(/InvalidArgument/);
    expect(() => encodeContent({ kind: 'call', signal: new Uint8Array(MAX_CALL_SIGNAL_BYTES + 1) })).toThrow(/InvalidArgument/);
  });

  test('alice\'s offer reaches bob as a call event, byte for byte, and the host never sees it', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    const events: EngineEvent[] = [];
    bob.engine.subscribe((e) => events.push(e));
    // P42: bob has alice as a contact (a stranger's offer would not ring).
    await bob.engine.lookupUser('alice');

    const signal = encodeCallSignal(offer);
    await alice.engine.sendCallSignal('bob', signal);
    await settle(alice, bob);

    const calls = events.filter((e) => e.type === 'call');
    expect(calls).toHaveLength(1);
    const got = calls[0] as Extract<EngineEvent, { type: 'call' }>;
    expect(got.username).toBe('alice');
    expect(decodeCallSignal(got.signal)).toEqual(offer);
    // Nothing readable on the host: neither the signal nor the peer id or fingerprint bytes.
    for (const s of host.sent) {
      expect(contains(s.body, signal)).toBe(false);
      expect(contains(s.body, offer.dtlsFingerprint)).toBe(false);
    }
    // Signals are not messages.
    expect(await bob.engine.listMessages('alice')).toEqual([]);
    expect(await alice.engine.listMessages('bob')).toEqual([]);
  });

  test('P42 a call event says whether the caller is a contact: not while bob only looked alice up, yes once he wrote to her', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    const events: EngineEvent[] = [];
    bob.engine.subscribe((e) => events.push(e));
    await bob.engine.lookupUser('alice');
    await alice.engine.sendCallSignal('bob', encodeCallSignal(offer));
    await settle(alice, bob);
    // The page makes this call relay-only when TURN is offered (calls/resources.ts 'if-turn').
    expect(events.filter((e) => e.type === 'call').map((e) => (e as Extract<EngineEvent, { type: 'call' }>).contact)).toEqual([false]);
    expect((await bob.engine.contactInfo('alice')).accepted).toBe(false);

    await bob.engine.sendText('alice', 'hi');
    await settle(alice, bob);
    events.length = 0;
    await alice.engine.sendCallSignal('bob', encodeCallSignal({ ...offer, callId: 'cb'.repeat(16) }));
    await settle(alice, bob);
    expect(events.filter((e) => e.type === 'call').map((e) => (e as Extract<EngineEvent, { type: 'call' }>).contact)).toEqual([true]);
    expect((await bob.engine.contactInfo('alice')).accepted).toBe(true);
  });

  test('the answer goes back the same way', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    const bob = await newUser(host, 'bob');
    open.push(alice, bob);
    const events: EngineEvent[] = [];
    alice.engine.subscribe((e) => events.push(e));
    await alice.engine.sendCallSignal('bob', encodeCallSignal(offer));
    await settle(alice, bob);
    const answer = encodeCallSignal({ type: 'answer', callId: offer.callId, peerId: 'ab'.repeat(16), dtlsFingerprint: new Uint8Array(32).fill(9) });
    await bob.engine.sendCallSignal('alice', answer);
    await settle(alice, bob);
    const got = events.find((e) => e.type === 'call') as Extract<EngineEvent, { type: 'call' }> | undefined;
    expect(got?.signal).toEqual(answer);
  });

  test('a signal that cannot be sent right now stays in the outbox and is delivered once, later', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host);
    const events: EngineEvent[] = [];
    bob.engine.subscribe((e) => events.push(e));
    host.up = false;
    await alice.engine.sendCallSignal('bob', encodeCallSignal({ type: 'hangup', callId: offer.callId, reason: 'ended' }));
    await settle(alice, bob);
    expect(events.filter((e) => e.type === 'call')).toHaveLength(0);
    host.up = true;
    await alice.engine.sendText('bob', 'again'); // any send kicks the outbox
    await settle(alice, bob);
    await new Promise((r) => setTimeout(r, 50));
    await settle(alice, bob);
    const calls = events.filter((e) => e.type === 'call') as Extract<EngineEvent, { type: 'call' }>[];
    expect(calls.map((c) => decodeCallSignal(c.signal))).toEqual([{ type: 'hangup', callId: offer.callId, reason: 'ended' }]);
    expect((await bob.engine.listMessages('alice')).flatMap((m) => (m.kind === 'text' ? [m.text] : []))).toEqual(['hi', 'again']);
  });
});

describe('call log', () => {
  test('each call leaves one entry, replaced (not duplicated) when written again', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    open.push(alice);
    const entry = { callId: offer.callId, direction: 'out', media: 'video', outcome: 'missed', durationMs: 0, at: Date.now() - 1000 } as const;
    await alice.engine.recordCall('bob', entry);
    await alice.engine.recordCall('bob', { ...entry, outcome: 'completed', durationMs: 83_400 });
    const log = await alice.engine.listMessages('bob');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ kind: 'notice', notice: 'call:out:video:completed:83', id: `call:${offer.callId}` });
    const chat = (await alice.engine.listChats()).find((c) => c.username === 'bob');
    expect(chat?.lastPreview).toBe('Outgoing video call');
  });

  test('malformed entries are refused', async () => {
    const host = new MemoryHost();
    const alice = await newUser(host, 'alice');
    open.push(alice);
    const entry = { callId: offer.callId, direction: 'out', media: 'video', outcome: 'completed', durationMs: 0, at: 1 } as const;
    await expect(alice.engine.recordCall('bob', { ...entry, callId: 'nope' })).rejects.toThrow(/InvalidArgument/);
    await expect(alice.engine.recordCall('bob', { ...entry, outcome: 'hacked' as never })).rejects.toThrow(/InvalidArgument/);
  });

  test('no call signal goes to a blocked contact, online or not, and nothing reaches the host', async () => {
    const host = new MemoryHost();
    const { alice, bob } = await talking(host);
    await alice.engine.block('bob');
    const before = host.sent.length;
    await expect(alice.engine.sendCallSignal('bob', encodeCallSignal(offer))).rejects.toMatchObject({ code: 'Blocked' });
    host.up = false;
    await expect(alice.engine.sendCallSignal('bob', encodeCallSignal(offer))).rejects.toMatchObject({ code: 'Blocked' });
    host.up = true;
    await settle(alice, bob);
    expect(host.sent.length).toBe(before);
  });
});

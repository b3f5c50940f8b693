/**
 * The call controller's signalling decisions without WebRTC (DESIGN.md §6, SECURITY.md P27): which
 * offers ring, what goes back through the ratchet, and which entry each ending leaves. A fake
 * CallPort stands in for the vault; time is a controllable clock; the ringtone is a counter.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { asUsername, type Username } from '../../src/lib/codec/username';
import { CallController, type CallOptions, type CallPort } from '../../src/lib/client/calls/controller.svelte';
import { BUSY_TTL_MS, tabCallsOver, type TabCalls } from '../../src/lib/client/calls/tab-calls';
import { callInProgress } from '../../src/lib/client/calls/in-call';
import type { CallEnding, CallLogEntry } from '../../src/lib/vault/views';
import { endingAtLock } from '../../src/lib/client/calls/live-call';
import { decodeCallSignal, encodeCallSignal, type CallOffer, type CallSignal } from '../../src/lib/wire/call';

const T0 = 1_800_000_000_000;

function rig(extra: Partial<CallOptions> = {}) {
  let now = T0;
  const sent: { username: string; signal: CallSignal }[] = [];
  const log: { username: string; entry: CallLogEntry }[] = [];
  /** Every arm, disarm and send, in the order the port saw them. */
  const order: string[] = [];
  const armed: (CallEnding | undefined)[] = [];
  let deliver: (username: Username, bytes: Uint8Array) => void = () => {};
  let rings = 0;
  let iceFetches = 0;
  const port: CallPort = {
    send: async (username, signal) => {
      order.push(`send ${decodeCallSignal(signal).type}`);
      sent.push({ username, signal: decodeCallSignal(signal) });
    },
    armLockEnding: async (username, ending) => {
      order.push(ending ? `arm ${username}` : 'disarm');
      armed.push(ending);
    },
    record: async (username, entry) => void log.push({ username, entry }),
    iceServers: async () => {
      iceFetches++;
      return { iceServers: [], expiresAt: null };
    },
    onSignal: (l) => {
      deliver = l;
      return () => {};
    }
  };
  const calls = new CallController(port, {
    ringTimeoutMs: 45_000,
    endedLingerMs: 0,
    now: () => now,
    ringtone: () => {
      rings++;
      return { stop() {} };
    },
    ...extra
  });
  return {
    calls,
    sent,
    log,
    order,
    armed,
    rings: () => rings,
    iceFetches: () => iceFetches,
    advance: (ms: number) => {
      now += ms;
      vi.advanceTimersByTime(ms);
    },
    offer: (from: string, o: Partial<CallOffer> = {}) => {
      const offer: CallOffer = { type: 'offer', callId: 'ca'.repeat(16), peerId: 'be'.repeat(16), dtlsFingerprint: new Uint8Array(32).fill(7), media: 'audio', sentAt: now, ...o };
      deliver(asUsername(from), encodeCallSignal(offer));
      return offer;
    },
    signal: (from: string, s: CallSignal) => deliver(asUsername(from), encodeCallSignal(s))
  };
}

afterEach(() => {
  vi.useRealTimers();
});

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('before a call', () => {
  test('warmUp fetches the ICE settings once; they are then cached, not fetched per call', async () => {
    const r = rig();
    r.calls.warmUp();
    await new Promise((done) => setTimeout(done, 0));
    expect(r.iceFetches()).toBe(1);
    r.calls.warmUp();
    await new Promise((done) => setTimeout(done, 0));
    expect(r.iceFetches()).toBe(1);
  });
});

describe('incoming offers', () => {
  test('a fresh offer rings with the caller and media (the ringtone starts once the screen is drawn)', async () => {
    const r = rig();
    r.offer('alice', { media: 'video' });
    expect(r.rings()).toBe(0);
    await nextTask();
    expect(r.calls.phase).toBe('incoming');
    expect(r.calls.username).toBe('alice');
    expect(r.calls.media).toBe('video');
    expect(r.rings()).toBe(1);
  });

  test('P27 P14 a stale offer (older than 60 s) never rings but leaves one missed-call entry, dated on arrival', async () => {
    const r = rig();
    const o = r.offer('alice', { sentAt: T0 - 61_000, media: 'video' });
    await nextTask();
    expect(r.calls.phase).toBe('idle');
    expect(r.rings()).toBe(0);
    expect(r.sent).toEqual([]);
    expect(r.log).toEqual([{ username: 'alice', entry: { callId: o.callId, direction: 'in', media: 'video', outcome: 'missed', durationMs: 0, at: T0 } }]);
    // The same stale offer again (a replay) adds nothing.
    r.offer('alice', { callId: o.callId, sentAt: T0 - 61_000 });
    await nextTask();
    expect(r.log).toHaveLength(1);
    // An offer from the future is refused without an entry.
    r.offer('alice', { callId: 'cf'.repeat(16), sentAt: T0 + 10 * 60_000 });
    await nextTask();
    expect(r.log).toHaveLength(1);
  });

  test('P27 a replayed call id never rings again, even after the first call ended', async () => {
    const r = rig();
    const o = r.offer('alice');
    await nextTask();
    r.calls.decline();
    r.calls.dismiss();
    r.offer('alice', { callId: o.callId });
    await nextTask();
    expect(r.calls.phase).toBe('idle');
    expect(r.rings()).toBe(1);
  });

  test('a malformed signal is ignored', () => {
    const r = rig();
    r.signal('alice', { type: 'hangup', callId: 'ab'.repeat(16), reason: 'ended' });
    expect(r.calls.phase).toBe('idle');
  });
});

describe('endings and their entries', () => {
  test('decline answers "declined" inside the ratchet and logs a declined incoming call', async () => {
    const r = rig();
    const o = r.offer('alice');
    r.calls.decline();
    await Promise.resolve();
    expect(r.sent).toEqual([{ username: 'alice', signal: { type: 'decline', callId: o.callId, reason: 'declined' } }]);
    expect(r.log.map((l) => l.entry)).toMatchObject([{ callId: o.callId, direction: 'in', outcome: 'declined', durationMs: 0 }]);
    expect(r.calls.phase).toBe('ended');
  });

  test('busy: a second caller is declined as busy and the callee logs it, the first call rings on', async () => {
    const r = rig();
    r.offer('alice');
    const second = r.offer('carol', { callId: 'cc'.repeat(16), media: 'video' });
    await Promise.resolve();
    expect(r.calls.username).toBe('alice');
    expect(r.calls.phase).toBe('incoming');
    expect(r.sent).toEqual([{ username: 'carol', signal: { type: 'decline', callId: second.callId, reason: 'busy' } }]);
    expect(r.log).toMatchObject([{ username: 'carol', entry: { direction: 'in', media: 'video', outcome: 'busy' } }]);
  });

  test('ring timeout: after 45 s the call is missed, and not a moment before', () => {
    vi.useFakeTimers();
    const r = rig();
    r.offer('alice');
    r.advance(44_999);
    expect(r.calls.phase).toBe('incoming');
    r.advance(1);
    expect(r.calls.phase).toBe('ended');
    expect(r.calls.title).toBe('Missed call');
    expect(r.log.map((l) => l.entry.outcome)).toEqual(['missed']);
  });

  test('P46 the vault locking under a ringing call stops it answering nothing: no decline (which would tell the caller someone is there), a missed entry', async () => {
    const r = rig();
    r.offer('alice');
    expect(callInProgress()).toBe(false);
    r.calls.endForLock();
    await Promise.resolve();
    expect(r.sent).toEqual([]);
    expect(r.calls.phase).toBe('ended');
    expect(r.log.map((l) => l.entry.outcome)).toEqual(['missed']);
    r.calls.endForLock();
    expect(r.log).toHaveLength(1);
  });

  test('P46 the vault is told ahead how a call ends at a lock: a ringing call as missed with no signal; disarmed before any signal leaves', async () => {
    const r = rig();
    const o = r.offer('alice');
    expect(r.order).toEqual(['arm alice']);
    expect(r.armed[0]).toMatchObject({ signal: undefined, entry: { callId: o.callId, direction: 'in', outcome: 'missed', durationMs: 0 } });
    r.calls.decline();
    await Promise.resolve();
    expect(r.order).toEqual(['arm alice', 'disarm', 'send decline']);
    expect(r.armed[1]).toBeUndefined();
    // The ended screen going away tells the vault nothing more.
    r.calls.dismiss();
    expect(r.order).toHaveLength(3);
  });

  test('P46 endingAtLock: a call we place is cancelled, one we are in hangs up, one ringing here is missed and answers nothing', () => {
    const id = 'ab'.repeat(16);
    expect(endingAtLock('outgoing', id)).toEqual({ reason: 'cancelled', notify: { type: 'cancel', callId: id } });
    expect(endingAtLock('connecting', id)).toEqual({ reason: 'hangup', notify: { type: 'hangup', callId: id, reason: 'ended' } });
    expect(endingAtLock('active', id)).toEqual({ reason: 'hangup', notify: { type: 'hangup', callId: id, reason: 'ended' } });
    expect(endingAtLock('incoming', id)).toEqual({ reason: 'missed' });
    expect(endingAtLock('idle', id)).toBeUndefined();
    expect(endingAtLock('ended', id)).toBeUndefined();
  });

  test('the caller cancelling turns the ringing into a missed call', () => {
    const r = rig();
    const o = r.offer('alice');
    r.signal('alice', { type: 'cancel', callId: o.callId });
    expect(r.calls.phase).toBe('ended');
    expect(r.log.map((l) => l.entry.outcome)).toEqual(['missed']);
  });

  test('a cancel for another call id, or from another chat, changes nothing', () => {
    const r = rig();
    const o = r.offer('alice');
    r.signal('alice', { type: 'cancel', callId: 'dd'.repeat(16) });
    r.signal('mallory', { type: 'cancel', callId: o.callId });
    expect(r.calls.phase).toBe('incoming');
  });

  test('P27 a peer that reports an unverified connection ends the call as "could not be verified"', () => {
    const r = rig();
    const o = r.offer('alice');
    r.signal('alice', { type: 'hangup', callId: o.callId, reason: 'unverified' });
    expect(r.calls.title).toBe('Call could not be verified');
    expect(r.log.map((l) => l.entry.outcome)).toEqual(['unverified']);
  });
});

describe('several tabs of one account', () => {
  /** Tabs joined by an in-memory stand-in for the account's BroadcastChannel (delivery as in one: to the others). */
  function tabs(n: number, now: () => number = Date.now): TabCalls[] {
    type Ch = { postMessage(m: unknown): void; onmessage: ((ev: MessageEvent<unknown>) => void) | null; close(): void };
    const all: Ch[] = [];
    return Array.from({ length: n }, (_, i) => {
      const ch: Ch = {
        onmessage: null,
        postMessage: (m) => all.forEach((c, j) => j !== i && c.onmessage?.({ data: structuredClone(m) } as MessageEvent<unknown>)),
        close: () => undefined
      };
      all.push(ch);
      return tabCallsOver(ch, now, `tab${i}`);
    });
  }

  /** Two tabs of one account, both ringing for the same call from alice. */
  async function ringingInTwoTabs() {
    const [t1, t2] = tabs(2);
    const a = rig({ tabs: t1 });
    const b = rig({ tabs: t2 });
    const offer = a.offer('alice');
    b.offer('alice', { callId: offer.callId });
    await nextTask();
    return { t1, t2, a, b, offer };
  }

  test('every tab rings; declining in one silences the others, which write no entry of their own', async () => {
    const { a, b } = await ringingInTwoTabs();
    expect([a.calls.phase, b.calls.phase]).toEqual(['incoming', 'incoming']);
    expect(a.rings() + b.rings()).toBe(2);
    b.calls.decline();
    expect(a.calls.phase).toBe('idle');
    await nextTask();
    expect(a.log).toEqual([]);
    expect(a.sent).toEqual([]);
    expect(b.log.map((l) => l.entry.outcome)).toEqual(['declined']);
  });

  test('another tab taking a different call changes nothing here', async () => {
    const [t1, t2] = tabs(2);
    const a = rig({ tabs: t1 });
    rig({ tabs: t2 });
    a.offer('alice');
    t2!.taken('ee'.repeat(16));
    expect(a.calls.phase).toBe('incoming');
  });

  test('while one tab is in a call, a new caller gets "busy" from that tab and the other tabs stay quiet', async () => {
    const { t2, a, b } = await ringingInTwoTabs();
    // Tab a is in the call (as if accepted and connected): it tells the others.
    a.calls.phase = 'active';
    expect(t2!.busyElsewhere()).toBe(true);
    const second = { callId: 'cc'.repeat(16), media: 'video' as const };
    a.offer('carol', second);
    b.calls.decline(); // b's own ringing for the first call ends
    b.calls.dismiss(); // and it is idle
    b.offer('carol', second);
    await nextTask();
    expect(b.calls.phase).toBe('idle');
    expect(b.rings()).toBe(1); // only the first call ever rang in b
    expect(b.sent.filter((x) => x.username === 'carol')).toEqual([]);
    expect(a.sent.filter((x) => x.username === 'carol').map((x) => x.signal)).toEqual([{ type: 'decline', callId: second.callId, reason: 'busy' }]);
    // The call ends: the others may ring again.
    a.calls.phase = 'ended';
    expect(t2!.busyElsewhere()).toBe(false);
  });

  test('a tab that closed mid-call stops counting as busy after BUSY_TTL_MS', () => {
    let now = 1_000_000;
    const [t1, t2] = tabs(2, () => now);
    t1!.setBusy(true);
    expect(t2!.busyElsewhere()).toBe(true);
    now += BUSY_TTL_MS + 1; // no heartbeat arrived (the tab is gone)
    expect(t2!.busyElsewhere()).toBe(false);
    t1!.close();
  });
});

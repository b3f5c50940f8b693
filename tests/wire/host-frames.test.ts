/**
 * The WebSocket frames (src/lib/wire/host-frames.ts), whose per-envelope frames have fast paths
 * beside the generic codec. Properties, over seeded random and mutated inputs:
 * - every valid frame round-trips, through both directions' encoders and decoders;
 * - decoding is strict and canonical: any byte string either fails with DecodeFailed or decodes
 *   to a frame that encodes back to exactly those bytes (so no fast path accepts anything the
 *   format does not allow, and no two byte strings mean the same frame); the one exception is
 *   an Error frame's unknown code, read as 'Unknown' for forward compatibility;
 * - encoders refuse what the format cannot carry, whichever path they take.
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { HostLimits } from '../../src/lib/wire/host-api';
import { decodeClientFrame, decodeHostFrame, encodeClientFrame, encodeHostFrame, type ClientFrame, type HostFrame } from '../../src/lib/wire/host-frames';

/** A small deterministic PRNG (mulberry32), so a failure names its seed. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const NAMES = ['bob', 'alice_1', 'a.b', 'x'.repeat(32), '0_9'];
const BAD_NAMES = ['ab', 'x'.repeat(33), 'Bob', 'bo b', 'héllo', ''];

function bytes(rnd: (n: number) => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rnd(256));
}

function u53(rnd: (n: number) => number): number {
  return [0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, rnd(2 ** 32) * 2 ** 21 + rnd(2 ** 21)][rnd(6)]!;
}

function clientFrame(rnd: (n: number) => number): ClientFrame {
  switch (rnd(3)) {
    case 0:
      return { type: 'auth', token: bytes(rnd, HostLimits.tokenLen) };
    case 1:
      return { type: 'send', reqId: rnd(2 ** 32), to: NAMES[rnd(NAMES.length)]!, body: bytes(rnd, 1 + rnd(64)) };
    default:
      return { type: 'ack', ids: Array.from({ length: rnd(6) }, () => u53(rnd)) };
  }
}

function hostFrame(rnd: (n: number) => number): HostFrame {
  switch (rnd(4)) {
    case 0:
      return { type: 'ready' };
    case 1:
      return { type: 'stored', reqId: rnd(2 ** 32), serverId: u53(rnd), receivedAt: u53(rnd) };
    case 2:
      return { type: 'envelope', serverId: u53(rnd), receivedAt: u53(rnd), sender: NAMES[rnd(NAMES.length)]!, body: bytes(rnd, 1 + rnd(64)) };
    default:
      return { type: 'error', reqId: rnd(2 ** 32), code: 'NoSuchUser', message: 'no such user' };
  }
}

/** One random edit: flip a byte, cut the end, add a byte, or change a length byte. */
function mutate(rnd: (n: number) => number, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  switch (rnd(4)) {
    case 0:
      if (out.length) out[rnd(out.length)] = rnd(256);
      return out;
    case 1:
      return out.slice(0, rnd(out.length + 1));
    case 2:
      return Uint8Array.from([...out, rnd(256)]);
    default:
      if (out.length > 18) out[[2, 5, 18][rnd(3)]!] = rnd(40);
      return out;
  }
}

/** Decodes, or says why not; a decoder may only ever fail with DecodeFailed. */
function tryDecode<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (e) {
    expect(isProtocolError(e) && e.code).toBe('DecodeFailed');
    return undefined;
  }
}

describe('host frames', () => {
  test('every valid frame round-trips, in both directions', () => {
    const rnd = prng(1);
    for (let i = 0; i < 3000; i++) {
      const c = clientFrame(rnd);
      expect(decodeClientFrame(encodeClientFrame(c))).toEqual(c);
      const h = hostFrame(rnd);
      expect(decodeHostFrame(encodeHostFrame(h))).toEqual(h);
    }
  });

  test('decoding is strict and canonical: mutated frames fail, or re-encode to exactly the same bytes', () => {
    const rnd = prng(2);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 20000; i++) {
      const c = mutate(rnd, encodeClientFrame(clientFrame(rnd)));
      const fc = tryDecode(() => decodeClientFrame(c));
      if (fc) expect(encodeClientFrame(fc)).toEqual(c);
      const h = mutate(rnd, encodeHostFrame(hostFrame(rnd)));
      const fh = tryDecode(() => decodeHostFrame(h));
      // An Error frame with a code this version does not know decodes as 'Unknown' on purpose.
      if (fh && !(fh.type === 'error' && fh.code === 'Unknown')) expect(encodeHostFrame(fh)).toEqual(h);
      for (const f of [fc, fh]) {
        if (f) accepted++;
        else refused++;
      }
    }
    // Both outcomes are exercised, so the property is not vacuous.
    expect(accepted).toBeGreaterThan(5000);
    expect(refused).toBeGreaterThan(5000);
  });

  test('an Error frame whose text is not UTF-8 is DecodeFailed, not a TypeError', () => {
    const ok = encodeHostFrame({ type: 'error', reqId: 1, code: 'NoSuchUser', message: 'ab' });
    const bad = Uint8Array.from(ok);
    bad[bad.length - 1] = 0xff;
    expect(() => decodeHostFrame(bad)).toThrow(expect.objectContaining({ code: 'DecodeFailed' }));
  });

  test('a Send body may alias the received bytes, and then equals the copied one', () => {
    const f: ClientFrame = { type: 'send', reqId: 7, to: 'bob', body: Uint8Array.of(1, 2, 3) };
    const wire = encodeClientFrame(f);
    const aliased = decodeClientFrame(wire, true) as Extract<ClientFrame, { type: 'send' }>;
    expect(aliased).toEqual(decodeClientFrame(wire));
    expect(aliased.body.buffer).toBe(wire.buffer);
  });

  test('envelope bodies: empty and over the limit are refused, the limit itself passes', () => {
    const head = encodeClientFrame({ type: 'send', reqId: 1, to: 'bob', body: Uint8Array.of(0) }).slice(0, 9);
    const withBody = (n: number) => Uint8Array.from([...head, ...new Uint8Array(n)]);
    expect(tryDecode(() => decodeClientFrame(withBody(0)))).toBeUndefined();
    expect(tryDecode(() => decodeClientFrame(withBody(HostLimits.maxEnvelopeBytes + 1)))).toBeUndefined();
    expect(decodeClientFrame(withBody(HostLimits.maxEnvelopeBytes))).toMatchObject({ type: 'send', to: 'bob' });
  });

  test('P41 a sealed envelope frame names no sender (length 0) and round-trips on both decode paths', () => {
    const f: HostFrame = { type: 'envelope', serverId: 7, receivedAt: 9, sender: '', body: Uint8Array.of(1, 2, 3) };
    const enc = encodeHostFrame(f);
    expect(enc[17]).toBe(0);
    expect(decodeHostFrame(enc)).toEqual(f);
  });

  test('encoders refuse what the format cannot carry', () => {
    for (const to of BAD_NAMES) {
      expect(() => encodeClientFrame({ type: 'send', reqId: 1, to, body: Uint8Array.of(1) })).toThrow(/InvalidArgument/);
      // '' is a sealed envelope's (P41), the one sender that is not a username.
      if (to !== '') expect(() => encodeHostFrame({ type: 'envelope', serverId: 1, receivedAt: 1, sender: to, body: Uint8Array.of(1) })).toThrow(/InvalidArgument/);
    }
    for (const id of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN]) {
      expect(() => encodeClientFrame({ type: 'ack', ids: [id] })).toThrow();
      expect(() => encodeHostFrame({ type: 'stored', reqId: 1, serverId: id, receivedAt: 1 })).toThrow();
    }
    expect(() => encodeClientFrame({ type: 'ack', ids: new Array<number>(HostLimits.maxAcksPerRequest + 1).fill(1) })).toThrow(/InvalidArgument/);
  });
});

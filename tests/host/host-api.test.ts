/**
 * The shared host wire (src/lib/wire/host-api.ts, host-frames.ts, base64url.ts, username.ts):
 * round trips, strictness (exact lengths, no unknown fields, no trailing bytes) and the
 * canonical username rules both client and host depend on.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ProtocolError } from '../../src/lib/codec/errors';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity } from '../../src/lib/crypto/identity';
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { decodeHostError, decodeRegisterRequest, encodeRegisterRequest, hostAuthMessage } from '../../src/lib/wire/host-api';
import { decodeClientFrame, decodeHostFrame, encodeClientFrame, encodeHostFrame, type ClientFrame, type HostFrame } from '../../src/lib/wire/host-frames';
import { canonicalUsername } from '../../src/lib/codec/username';
import { registration } from './support';

describe('canonical usernames', () => {
  test.each([
    ['Alice', 'alice'],
    ['ＡＬＩＣＥ', 'alice'],
    ['bob.smith_99', 'bob.smith_99'],
    ['ﬁnn', 'finn'] // NFKC folds the ligature before the alphabet check
  ])('%s -> %s', (raw, canonical) => {
    expect(canonicalUsername(raw)).toBe(canonical);
  });

  test.each(['ab', 'a'.repeat(33), 'al ice', 'al-ice', 'alicé', 'ali\u200bce', 'аlice' /* Cyrillic а */, ''])('%j is refused with a reason', (raw) => {
    const r = canonicalUsername(raw);
    expect(r).toBeInstanceOf(ProtocolError);
    expect((r as ProtocolError).code).toBe('InvalidArgument');
  });

  test('canonicalisation is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const c = canonicalUsername(s);
        if (typeof c === 'string') expect(canonicalUsername(c)).toBe(c);
      })
    );
  });
});

describe('base64url', () => {
  test('round trips any bytes and refuses non-canonical text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(fromBase64Url(toBase64Url(b), 100)).toEqual(b);
      })
    );
    for (const bad of ['AB=', 'A', 'AB+/', 'AR', 'A B']) expect(() => fromBase64Url(bad, 100), bad).toThrow(ProtocolError);
    expect(() => fromBase64Url('AAAAAAAA', 5)).toThrow(/exceed/);
  });
});

describe('host frames', () => {
  const clientFrames: ClientFrame[] = [
    { type: 'auth', token: new Uint8Array(32).fill(7) },
    { type: 'send', reqId: 42, to: 'bob', body: new Uint8Array([1, 2, 3]) },
    { type: 'ack', ids: [1, 2 ** 40, 9] }
  ];
  const hostFrames: HostFrame[] = [
    { type: 'ready' },
    { type: 'stored', reqId: 42, serverId: 7, receivedAt: 1_800_000_000_000 },
    { type: 'envelope', serverId: 7, receivedAt: 1_800_000_000_000, sender: 'alice', body: new Uint8Array([9]) },
    { type: 'error', reqId: 0, code: 'QuotaExceeded', message: 'mailbox full: 3 envelopes waiting' }
  ];

  test.each(clientFrames)('client frame $type round trips; a trailing or missing byte is refused', (f) => {
    const bytes = encodeClientFrame(f);
    expect(decodeClientFrame(bytes)).toEqual(f);
    if (f.type !== 'send') expect(() => decodeClientFrame(new Uint8Array([...bytes, 0]))).toThrow(ProtocolError);
    expect(() => decodeClientFrame(bytes.slice(0, f.type === 'send' ? 9 : -1))).toThrow();
  });

  test.each(hostFrames)('host frame $type round trips', (f) => {
    expect(decodeHostFrame(encodeHostFrame(f))).toEqual(f);
  });

  test('an empty body, a non-canonical recipient and unknown types are refused', () => {
    expect(() => decodeClientFrame(encodeClientFrame({ type: 'send', reqId: 1, to: 'bob', body: new Uint8Array(0) }))).toThrow(/empty/);
    expect(() => decodeClientFrame(new Uint8Array([0x02, 0, 0, 0, 1, 3, 0x42, 0x4f, 0x42, 1]))).toThrow(ProtocolError);
    expect(() => decodeClientFrame(new Uint8Array([0x09]))).toThrow(/frame type/);
  });
});

describe('JSON requests', () => {
  test('a registration round trips and unknown fields or a forged identity are refused', () => {
    const id = generateIdentity(systemDeps);
    const req = registration('alice', id, new Uint8Array(32).fill(1), { oneTime: 2, kem: 1 });
    const json = JSON.parse(JSON.stringify(encodeRegisterRequest(req)));
    expect(decodeRegisterRequest(json)).toEqual(req);
    expect(() => decodeRegisterRequest({ ...json, extra: 1 })).toThrow(/unexpected field/);
    const identity = fromBase64Url(json.identity, 200);
    identity[identity.length - 1]! ^= 1; // flip a bit of IKd's signature
    expect(() => decodeRegisterRequest({ ...json, identity: toBase64Url(identity) })).toThrow(/signed/);
  });

  test('the auth message binds label, challenge and username', () => {
    const ch = new Uint8Array(32).fill(3);
    expect(hostAuthMessage(ch, 'alice')).not.toEqual(hostAuthMessage(ch, 'alicf'));
    expect(() => hostAuthMessage(new Uint8Array(31), 'alice')).toThrow(ProtocolError);
    expect(() => hostAuthMessage(ch, 'Alice')).toThrow(ProtocolError);
  });

  test('host errors decode to a known code or Unknown, never throw', () => {
    expect(decodeHostError({ error: { code: 'RateLimited', message: 'slow down' } })).toEqual({ code: 'RateLimited', message: 'slow down' });
    expect(decodeHostError({ error: { code: 'Bogus', message: 'x' } }).code).toBe('Unknown');
    expect(decodeHostError('<html>').code).toBe('Unknown');
  });
});

import { describe, expect, test } from 'vitest';
import {
  MAX_OFFER_AGE_MS,
  admitOffer,
  decodeCallSignal,
  encodeCallSignal,
  sdpMatchesFingerprint,
  type CallOffer,
  type CallSignal
} from '../../src/lib/wire/call';
import { toHex } from '../../src/lib/codec/bytes';

const fp = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const callId = 'a1'.repeat(16);
const peerId = '0f'.repeat(16);
const offer: CallOffer = { type: 'offer', callId, peerId, dtlsFingerprint: fp, media: 'video', sentAt: 1_700_000_000_000 };
const all: CallSignal[] = [
  offer,
  { ...offer, media: 'audio' },
  { type: 'answer', callId, peerId, dtlsFingerprint: fp },
  { type: 'decline', callId, reason: 'declined' },
  { type: 'decline', callId, reason: 'busy' },
  { type: 'hangup', callId, reason: 'ended' },
  { type: 'hangup', callId, reason: 'unverified' },
  { type: 'cancel', callId }
];

function colonHex(b: Uint8Array): string {
  return toHex(b).toUpperCase().match(/../g)!.join(':');
}

describe('call signal codec', () => {
  test.each(all.map((s) => [s.type, s] as const))('%s round-trips exactly', (_t, s) => {
    const bytes = encodeCallSignal(s);
    expect(decodeCallSignal(bytes)).toEqual(s);
    expect(encodeCallSignal(decodeCallSignal(bytes))).toEqual(bytes);
  });

  test('an offer is exactly 1+1+16+16+32+1+8 bytes', () => {
    expect(encodeCallSignal(offer).length).toBe(75);
  });

  test('strict decode: every truncation and any trailing byte is refused', () => {
    for (const s of all) {
      const bytes = encodeCallSignal(s);
      for (let n = 0; n < bytes.length; n++) expect(() => decodeCallSignal(bytes.slice(0, n))).toThrow(/DecodeFailed/);
      expect(() => decodeCallSignal(Uint8Array.of(...bytes, 0))).toThrow(/DecodeFailed/);
    }
  });

  test('unknown version, type, media and reason are refused', () => {
    const b = encodeCallSignal(offer);
    expect(() => decodeCallSignal(Uint8Array.of(2, ...b.slice(1)))).toThrow(/UnsupportedVersion/);
    expect(() => decodeCallSignal(Uint8Array.of(1, 9, ...b.slice(2)))).toThrow(/UnsupportedVersion/);
    const badMedia = b.slice();
    badMedia[66] = 3;
    expect(() => decodeCallSignal(badMedia)).toThrow(/DecodeFailed/);
    const d = encodeCallSignal({ type: 'decline', callId, reason: 'busy' });
    expect(() => decodeCallSignal(Uint8Array.of(...d.slice(0, -1), 7))).toThrow(/DecodeFailed/);
  });

  test('encode refuses ids that are not 32 lowercase hex and fingerprints that are not 32 bytes', () => {
    expect(() => encodeCallSignal({ ...offer, peerId: 'A1'.repeat(16) })).toThrow(/InvalidArgument/);
    expect(() => encodeCallSignal({ ...offer, callId: 'abc' })).toThrow(/InvalidArgument/);
    expect(() => encodeCallSignal({ ...offer, dtlsFingerprint: fp.slice(1) })).toThrow(/InvalidArgument/);
  });
});

describe('P27 offer admission', () => {
  const now = offer.sentAt;
  test('P27 a fresh, unseen offer is admitted', () => {
    expect(admitOffer(offer, now + 1000, new Set())).toBe('ok');
  });
  test('P27 stale offers (older than 60 s) are refused', () => {
    expect(admitOffer(offer, now + MAX_OFFER_AGE_MS + 1, new Set())).toBe('stale');
  });
  test('P27 a replayed call id is refused', () => {
    expect(admitOffer(offer, now, new Set([callId]))).toBe('replayed');
  });
  test('P27 an offer from far in the future is refused', () => {
    expect(admitOffer(offer, now - 10 * 60_000, new Set())).toBe('future');
  });
});

describe('P27 SDP fingerprint check', () => {
  const sdp = (line: string) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n${line}\r\na=setup:actpass\r\n`;
  test('the certificate fingerprint matches', () => {
    expect(sdpMatchesFingerprint(sdp(`a=fingerprint:sha-256 ${colonHex(fp)}`), fp)).toBe(true);
  });
  test('P27 a rewritten fingerprint does not match', () => {
    const other = fp.slice();
    other[31] = other[31]! ^ 1;
    expect(sdpMatchesFingerprint(sdp(`a=fingerprint:sha-256 ${colonHex(other)}`), fp)).toBe(false);
  });
  test('P27 a second, different fingerprint line, another hash, or none at all does not match', () => {
    const two = sdp(`a=fingerprint:sha-256 ${colonHex(fp)}`) + `a=fingerprint:sha-256 ${colonHex(new Uint8Array(32))}\r\n`;
    expect(sdpMatchesFingerprint(two, fp)).toBe(false);
    expect(sdpMatchesFingerprint(sdp(`a=fingerprint:sha-1 ${colonHex(fp.slice(0, 20))}`), fp)).toBe(false);
    expect(sdpMatchesFingerprint(sdp('a=ice-lite'), fp)).toBe(false);
  });
});

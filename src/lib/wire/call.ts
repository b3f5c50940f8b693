/**
 * Call signalling contents (DESIGN.md §6; SECURITY.md P27, P28). These bytes travel INSIDE the
 * Double Ratchet (content kind 'call'), so the signalling host never sees them; they bind a call to
 * the DTLS certificate each side generated for it. Strict and versioned:
 *
 *   version u8 (1) || type u8 || callId (16) || body
 *   0x01 offer:   peerId (16) || dtlsFingerprint sha-256 (32) || media u8 (1 audio, 2 video) || sentAt u64
 *   0x02 answer:  peerId (16) || dtlsFingerprint sha-256 (32)
 *   0x03 decline: reason u8 (1 declined, 2 busy)
 *   0x04 hangup:  reason u8 (1 ended, 2 unverified: our fingerprint check failed, so the peer ends too)
 *   0x05 cancel   (the caller gave up before an answer)
 *
 * PeerJS ids are the 16 peerId bytes as 32 lowercase hex characters: random, per call, and no
 * trust attaches to them (P28) — the fingerprint is what authenticates the other side.
 * Also here: reading `a=fingerprint` out of SDP, and the offer admission rule (stale / replayed).
 * Knows nothing of PeerJS, WebRTC objects, sessions or the DOM.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, bytesEqual, fromHex, toHex } from '../codec/bytes';

export const CALL_SIGNAL_VERSION = 1;
export const CALL_ID_LEN = 16;
export const PEER_ID_LEN = 16;
export const FINGERPRINT_LEN = 32;
/** An offer older than this (by the sender's clock) is refused: nobody is still waiting on it. */
export const MAX_OFFER_AGE_MS = 60_000;
/** How far in the future an offer's clock may be (clock skew) before it is refused. */
export const MAX_OFFER_SKEW_MS = 5 * 60_000;

export const CallSignalType = { offer: 0x01, answer: 0x02, decline: 0x03, hangup: 0x04, cancel: 0x05 } as const;
export const CallMedia = { audio: 0x01, video: 0x02 } as const;
export type CallMedia = keyof typeof CallMedia;
export const DeclineReason = { declined: 0x01, busy: 0x02 } as const;
export type DeclineReason = keyof typeof DeclineReason;
export const HangupReason = { ended: 0x01, unverified: 0x02 } as const;
export type HangupReason = keyof typeof HangupReason;

export type CallOffer = { type: 'offer'; callId: string; peerId: string; dtlsFingerprint: Uint8Array; media: CallMedia; sentAt: number };
export type CallAnswer = { type: 'answer'; callId: string; peerId: string; dtlsFingerprint: Uint8Array };
export type CallDecline = { type: 'decline'; callId: string; reason: DeclineReason };
export type CallHangup = { type: 'hangup'; callId: string; reason: HangupReason };
export type CallCancel = { type: 'cancel'; callId: string };
export type CallSignal = CallOffer | CallAnswer | CallDecline | CallHangup | CallCancel;

const HEX_ID = /^[0-9a-f]{32}$/;

/** True for a well-formed random 128-bit id as PeerJS and call ids are written: 32 lowercase hex. */
export function isCallHexId(id: string): boolean {
  return HEX_ID.test(id);
}

function idBytes(id: string, what: string): Uint8Array {
  if (!isCallHexId(id)) fail('InvalidArgument', `${what} of ${id.length} characters is not 32 lowercase hex digits`);
  return fromHex(id);
}

function fingerprintBytes(fp: Uint8Array): Uint8Array {
  if (fp.length !== FINGERPRINT_LEN) fail('InvalidArgument', `fingerprint of ${fp.length} bytes, expected ${FINGERPRINT_LEN}`);
  return fp;
}

export function encodeCallSignal(s: CallSignal): Uint8Array {
  const w = new ByteWriter().u8(CALL_SIGNAL_VERSION).u8(CallSignalType[s.type]).fixed(idBytes(s.callId, 'callId'), CALL_ID_LEN);
  switch (s.type) {
    case 'offer':
      if (!Number.isSafeInteger(s.sentAt) || s.sentAt < 0) fail('InvalidArgument', `sentAt ${s.sentAt} is not a time`);
      return w
        .fixed(idBytes(s.peerId, 'peerId'), PEER_ID_LEN)
        .fixed(fingerprintBytes(s.dtlsFingerprint), FINGERPRINT_LEN)
        .u8(CallMedia[s.media])
        .u64(s.sentAt)
        .finish();
    case 'answer':
      return w.fixed(idBytes(s.peerId, 'peerId'), PEER_ID_LEN).fixed(fingerprintBytes(s.dtlsFingerprint), FINGERPRINT_LEN).finish();
    case 'decline':
      return w.u8(DeclineReason[s.reason]).finish();
    case 'hangup':
      return w.u8(HangupReason[s.reason]).finish();
    case 'cancel':
      return w.finish();
  }
}

function media(b: number): CallMedia {
  if (b === CallMedia.audio) return 'audio';
  if (b === CallMedia.video) return 'video';
  return fail('DecodeFailed', `call media ${b}`);
}

function reason(b: number): DeclineReason {
  if (b === DeclineReason.declined) return 'declined';
  if (b === DeclineReason.busy) return 'busy';
  return fail('DecodeFailed', `decline reason ${b}`);
}

export function decodeCallSignal(bytes: Uint8Array): CallSignal {
  const r = new ByteReader(bytes, 'call signal');
  const version = r.u8();
  if (version !== CALL_SIGNAL_VERSION) fail('UnsupportedVersion', `call signal version ${version}`);
  const type = r.u8();
  const callId = toHex(r.fixed(CALL_ID_LEN));
  let s: CallSignal;
  if (type === CallSignalType.offer) {
    const peerId = toHex(r.fixed(PEER_ID_LEN));
    const dtlsFingerprint = r.fixed(FINGERPRINT_LEN).slice();
    s = { type: 'offer', callId, peerId, dtlsFingerprint, media: media(r.u8()), sentAt: r.u64() };
  } else if (type === CallSignalType.answer) {
    const peerId = toHex(r.fixed(PEER_ID_LEN));
    s = { type: 'answer', callId, peerId, dtlsFingerprint: r.fixed(FINGERPRINT_LEN).slice() };
  } else if (type === CallSignalType.decline) {
    s = { type: 'decline', callId, reason: reason(r.u8()) };
  } else if (type === CallSignalType.hangup) {
    const b = r.u8();
    const why: HangupReason = b === HangupReason.ended ? 'ended' : b === HangupReason.unverified ? 'unverified' : fail('DecodeFailed', `hangup reason ${b}`);
    s = { type: 'hangup', callId, reason: why };
  } else if (type === CallSignalType.cancel) {
    s = { type: 'cancel', callId };
  } else {
    return fail('UnsupportedVersion', `call signal type ${type}`);
  }
  r.end();
  return s;
}

export type OfferVerdict = 'ok' | 'stale' | 'future' | 'replayed';

/**
 * P27 "stale offers are refused": an offer is admitted once, and only while fresh. `seen` is the
 * set of call ids this client has already handled (offers, and ids it placed itself).
 */
export function admitOffer(offer: CallOffer, now: number, seen: ReadonlySet<string>): OfferVerdict {
  if (seen.has(offer.callId)) return 'replayed';
  if (offer.sentAt > now + MAX_OFFER_SKEW_MS) return 'future';
  if (now - offer.sentAt > MAX_OFFER_AGE_MS) return 'stale';
  return 'ok';
}

/**
 * Every sha-256 `a=fingerprint` in an SDP blob (session or media level), as 32-byte arrays.
 * A line for another hash or a malformed one is returned as undefined so callers can refuse it.
 */
export function sdpFingerprints(sdp: string): (Uint8Array | undefined)[] {
  const out: (Uint8Array | undefined)[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=fingerprint:(\S+) (\S+)\s*$/i.exec(line);
    if (!m) continue;
    out.push(m[1]!.toLowerCase() === 'sha-256' ? parseFingerprint(m[2]!) : undefined);
  }
  return out;
}

/** `AB:CD:…` (32 colon-separated hex pairs) -> 32 bytes, or undefined if malformed. */
export function parseFingerprint(text: string): Uint8Array | undefined {
  if (!/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/i.test(text)) return undefined;
  return fromHex(text.replaceAll(':', '').toLowerCase());
}

/**
 * The P27 check: the remote SDP carries at least one fingerprint, and every one of them equals
 * the fingerprint received end to end. Any other line (or none) is a mismatch.
 */
export function sdpMatchesFingerprint(sdp: string, expected: Uint8Array): boolean {
  const fps = sdpFingerprints(sdp);
  return fps.length > 0 && fps.every((fp) => fp !== undefined && bytesEqual(fp, expected));
}

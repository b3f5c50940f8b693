/**
 * WebSocket frames between client and host (DESIGN.md §5 "Delivery"), binary and strict.
 *
 *   client -> host  0x01 Auth  token(32)            first frame; keeps the token out of URLs and logs
 *                   0x02 Send  u32 reqId || recipient username || body (to the end)
 *                   0x03 Ack   u16 n || n x u64 serverId
 *   host -> client  0x81 Ready
 *                   0x82 Stored  u32 reqId || u64 serverId || u64 receivedAt   (after the durable commit)
 *                   0x83 Envelope u64 serverId || u64 receivedAt || sender username || body (to the end)
 *                        (a sealed envelope, SECURITY.md P41, has no sender: length 0, `sender` '')
 *                   0x84 Error   u32 reqId (0 = the connection) || u8-len code || u16-len message
 *
 * The body is the opaque ciphertext envelope; this module never looks inside it. Knows nothing
 * of sockets or storage.
 *
 * The four per-envelope frames (Send, Ack; Stored, Envelope) have direct fast paths both ways: the
 * generic ByteReader/ByteWriter allocate a view per field, which showed up in host profiles. A fast
 * path only ever ACCEPTS input the generic codec accepts, producing the same bytes/values; on
 * anything unusual it falls through to the generic code, which throws exactly as before.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { isUsername, readUsername, writeUsername } from '../codec/username';
import { HostErrorCode, HostLimits } from './host-api';

export const FrameType = {
  auth: 0x01,
  send: 0x02,
  ack: 0x03,
  ready: 0x81,
  stored: 0x82,
  envelope: 0x83,
  error: 0x84
} as const;

export type ClientFrame =
  | { type: 'auth'; token: Uint8Array }
  | { type: 'send'; reqId: number; to: string; body: Uint8Array }
  | { type: 'ack'; ids: number[] };

export type HostFrame =
  | { type: 'ready' }
  | { type: 'stored'; reqId: number; serverId: number; receivedAt: number }
  /** `sender` is '' for a sealed envelope (P41): the host does not know who sent it. */
  | { type: 'envelope'; serverId: number; receivedAt: number; sender: string; body: Uint8Array }
  | { type: 'error'; reqId: number; code: HostErrorCode | 'Unknown'; message: string };

/** The username at bytes[at..at+n) if it is a valid one (ASCII only), else undefined (caller falls back). */
function fastUsername(bytes: Uint8Array, at: number, n: number): string | undefined {
  if (n > 32 || at + n > bytes.length) return undefined;
  let s = '';
  for (let i = at; i < at + n; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return isUsername(s) ? s : undefined;
}

const TWO32 = 2 ** 32;

function putU64(dv: DataView, at: number, v: number): void {
  dv.setUint32(at, Math.floor(v / TWO32));
  dv.setUint32(at + 4, v >>> 0);
}

const u64Ok = (v: number) => Number.isSafeInteger(v) && v >= 0;

/** Send: u8 type || u32 reqId || u8 n || n username bytes || body (1..max). */
function fastSend(bytes: Uint8Array, aliasBody: boolean): ClientFrame | undefined {
  if (bytes.length < 6) return undefined;
  const n = bytes[5]!;
  const to = fastUsername(bytes, 6, n);
  const bodyLen = bytes.length - 6 - n;
  if (to === undefined || bodyLen < 1 || bodyLen > HostLimits.maxEnvelopeBytes) return undefined;
  const reqId = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
  return { type: 'send', reqId, to, body: aliasBody ? bytes.subarray(6 + n) : bytes.slice(6 + n) };
}

/** Ack: u8 type || u16 n (<= max) || n x u64 (< 2^53), nothing after. */
function fastAck(bytes: Uint8Array): ClientFrame | undefined {
  if (bytes.length < 3) return undefined;
  const n = (bytes[1]! << 8) | bytes[2]!;
  if (n > HostLimits.maxAcksPerRequest || bytes.length !== 3 + 8 * n) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const ids = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const hi = dv.getUint32(3 + 8 * i);
    if (hi >= 2 ** 21) return undefined;
    ids[i] = hi * TWO32 + dv.getUint32(7 + 8 * i);
  }
  return { type: 'ack', ids };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8; invalid bytes are DecodeFailed like every other malformed field (not a TypeError). */
function utf8Text(b: Uint8Array, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    return fail('DecodeFailed', `${what} of ${b.length} bytes is not UTF-8`);
  }
}

function body(r: ByteReader): Uint8Array {
  const b = r.rest();
  if (b.length === 0) fail('DecodeFailed', 'empty envelope body');
  if (b.length > HostLimits.maxEnvelopeBytes) fail('DecodeFailed', `envelope of ${b.length} bytes exceeds ${HostLimits.maxEnvelopeBytes}`);
  return b;
}

export function encodeClientFrame(f: ClientFrame): Uint8Array {
  switch (f.type) {
    case 'auth':
      return new ByteWriter().u8(FrameType.auth).fixed(f.token, HostLimits.tokenLen).finish();
    case 'send':
      if (isUsername(f.to)) { // valid usernames are ASCII: charCodeAt gives their bytes
        const n = f.to.length;
        const out = new Uint8Array(6 + n + f.body.length);
        new DataView(out.buffer).setUint32(1, f.reqId >>> 0);
        out[0] = FrameType.send;
        out[5] = n;
        for (let i = 0; i < n; i++) out[6 + i] = f.to.charCodeAt(i);
        out.set(f.body, 6 + n);
        return out;
      }
      return writeUsername(new ByteWriter().u8(FrameType.send).u32(f.reqId), f.to).raw(f.body).finish();
    case 'ack': {
      if (f.ids.length <= HostLimits.maxAcksPerRequest && f.ids.every(u64Ok)) {
        const out = new Uint8Array(3 + 8 * f.ids.length);
        const dv = new DataView(out.buffer);
        out[0] = FrameType.ack;
        dv.setUint16(1, f.ids.length);
        for (let i = 0; i < f.ids.length; i++) putU64(dv, 3 + 8 * i, f.ids[i]!);
        return out;
      }
      if (f.ids.length > HostLimits.maxAcksPerRequest) fail('InvalidArgument', `${f.ids.length} acks in one frame`);
      const w = new ByteWriter().u8(FrameType.ack).u16(f.ids.length);
      for (const id of f.ids) w.u64(id);
      return w.finish();
    }
  }
}

/**
 * `aliasBody`: a Send body may be a view into `bytes` instead of a copy; only for a caller that owns
 * `bytes` and never writes to it again (the host's per-message socket buffer), saving a copy and an
 * allocation per envelope.
 */
export function decodeClientFrame(bytes: Uint8Array, aliasBody = false): ClientFrame {
  const fast = bytes[0] === FrameType.send ? fastSend(bytes, aliasBody) : bytes[0] === FrameType.ack ? fastAck(bytes) : undefined;
  if (fast) return fast;
  const r = new ByteReader(bytes, 'client frame');
  const t = r.u8();
  let f: ClientFrame;
  if (t === FrameType.auth) f = { type: 'auth', token: r.fixed(HostLimits.tokenLen) };
  else if (t === FrameType.send) f = { type: 'send', reqId: r.u32(), to: readUsername(r), body: body(r) };
  else if (t === FrameType.ack) {
    const n = r.u16();
    if (n > HostLimits.maxAcksPerRequest) fail('DecodeFailed', `${n} acks exceed ${HostLimits.maxAcksPerRequest}`);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(r.u64());
    f = { type: 'ack', ids };
  } else return fail('DecodeFailed', `client frame type ${t}`);
  r.end();
  return f;
}

/** Fresh zeroed bytes; the host passes a pooled allocator (every byte of a frame is written). */
const zeroed = (n: number): Uint8Array => new Uint8Array(n);

export function encodeHostFrame(f: HostFrame, alloc: (n: number) => Uint8Array = zeroed): Uint8Array {
  switch (f.type) {
    case 'ready':
      return Uint8Array.of(FrameType.ready);
    case 'stored':
      if (u64Ok(f.serverId) && u64Ok(f.receivedAt)) {
        const out = alloc(21);
        const dv = new DataView(out.buffer, out.byteOffset, out.length);
        out[0] = FrameType.stored;
        dv.setUint32(1, f.reqId >>> 0);
        putU64(dv, 5, f.serverId);
        putU64(dv, 13, f.receivedAt);
        return out;
      }
      return new ByteWriter().u8(FrameType.stored).u32(f.reqId).u64(f.serverId).u64(f.receivedAt).finish();
    case 'envelope':
      if (u64Ok(f.serverId) && u64Ok(f.receivedAt) && (f.sender === '' || isUsername(f.sender))) {
        const n = f.sender.length;
        const out = alloc(18 + n + f.body.length);
        const dv = new DataView(out.buffer, out.byteOffset, out.length);
        out[0] = FrameType.envelope;
        putU64(dv, 1, f.serverId);
        putU64(dv, 9, f.receivedAt);
        out[17] = n;
        for (let i = 0; i < n; i++) out[18 + i] = f.sender.charCodeAt(i);
        out.set(f.body, 18 + n);
        return out;
      }
      return writeUsername(new ByteWriter().u8(FrameType.envelope).u64(f.serverId).u64(f.receivedAt), f.sender).raw(f.body).finish();
    case 'error': {
      const code = new TextEncoder().encode(f.code);
      const message = new TextEncoder().encode(f.message.slice(0, 1000));
      return new ByteWriter().u8(FrameType.error).u32(f.reqId).u8(code.length).raw(code).bytes16(message).finish();
    }
  }
}

/** Stored (exactly 21 bytes) and Envelope (with a valid sender and a 1..max body), else undefined. */
function fastHost(bytes: Uint8Array): HostFrame | undefined {
  const t = bytes[0];
  if (t !== FrameType.stored && t !== FrameType.envelope) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const u64 = (at: number) => {
    const hi = dv.getUint32(at);
    return hi >= 2 ** 21 ? -1 : hi * TWO32 + dv.getUint32(at + 4);
  };
  if (t === FrameType.stored) {
    if (bytes.length !== 21) return undefined;
    const serverId = u64(5);
    const receivedAt = u64(13);
    if (serverId < 0 || receivedAt < 0) return undefined;
    return { type: 'stored', reqId: dv.getUint32(1), serverId, receivedAt };
  }
  if (bytes.length < 18) return undefined;
  const n = bytes[17]!;
  const sender = n === 0 ? '' : fastUsername(bytes, 18, n);
  const bodyLen = bytes.length - 18 - n;
  const serverId = u64(1);
  const receivedAt = u64(9);
  if (sender === undefined || bodyLen < 1 || bodyLen > HostLimits.maxEnvelopeBytes || serverId < 0 || receivedAt < 0) return undefined;
  return { type: 'envelope', serverId, receivedAt, sender, body: bytes.slice(18 + n) };
}

export function decodeHostFrame(bytes: Uint8Array): HostFrame {
  const fast = fastHost(bytes);
  if (fast) return fast;
  const r = new ByteReader(bytes, 'host frame');
  const t = r.u8();
  let f: HostFrame;
  if (t === FrameType.ready) f = { type: 'ready' };
  else if (t === FrameType.stored) f = { type: 'stored', reqId: r.u32(), serverId: r.u64(), receivedAt: r.u64() };
  else if (t === FrameType.envelope) {
    const serverId = r.u64();
    const receivedAt = r.u64();
    // Length 0: a sealed envelope (P41); otherwise a canonical username.
    const sender = bytes[bytes.length - r.remaining] === 0 ? (r.u8(), '') : readUsername(r);
    f = { type: 'envelope', serverId, receivedAt, sender, body: body(r) };
  }
  else if (t === FrameType.error) {
    const reqId = r.u32();
    const raw = utf8Text(r.fixed(r.u8()), 'error code');
    const code = Object.values(HostErrorCode).find((c) => c === raw) ?? 'Unknown';
    f = { type: 'error', reqId, code, message: utf8Text(r.bytes16(2000), 'error message') };
  } else return fail('DecodeFailed', `host frame type ${t}`);
  r.end();
  return f;
}

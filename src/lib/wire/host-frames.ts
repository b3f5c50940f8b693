/**
 * WebSocket frames between client and host (DESIGN.md §5 "Delivery"), binary and strict.
 *
 *   client -> host  0x01 Auth  token(32)            first frame; keeps the token out of URLs and logs
 *                   0x02 Send  u32 reqId || recipient username || body (to the end)
 *                   0x03 Ack   u16 n || n x u64 serverId
 *   host -> client  0x81 Ready
 *                   0x82 Stored  u32 reqId || u64 serverId || u64 receivedAt   (after the durable commit)
 *                   0x83 Envelope u64 serverId || u64 receivedAt || sender username || body (to the end)
 *                   0x84 Error   u32 reqId (0 = the connection) || u8-len code || u16-len message
 *
 * The body is the opaque ciphertext envelope; this module never looks inside it. Knows nothing
 * of sockets or storage.
 */
import { fail } from '../crypto/errors';
import { ByteReader, ByteWriter } from './bytes';
import { readUsername, writeUsername } from './bundle';
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
  | { type: 'envelope'; serverId: number; receivedAt: number; sender: string; body: Uint8Array }
  | { type: 'error'; reqId: number; code: HostErrorCode | 'Unknown'; message: string };

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
      return writeUsername(new ByteWriter().u8(FrameType.send).u32(f.reqId), f.to).raw(f.body).finish();
    case 'ack': {
      if (f.ids.length > HostLimits.maxAcksPerRequest) fail('InvalidArgument', `${f.ids.length} acks in one frame`);
      const w = new ByteWriter().u8(FrameType.ack).u16(f.ids.length);
      for (const id of f.ids) w.u64(id);
      return w.finish();
    }
  }
}

export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
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

export function encodeHostFrame(f: HostFrame): Uint8Array {
  switch (f.type) {
    case 'ready':
      return Uint8Array.of(FrameType.ready);
    case 'stored':
      return new ByteWriter().u8(FrameType.stored).u32(f.reqId).u64(f.serverId).u64(f.receivedAt).finish();
    case 'envelope':
      return writeUsername(new ByteWriter().u8(FrameType.envelope).u64(f.serverId).u64(f.receivedAt), f.sender).raw(f.body).finish();
    case 'error': {
      const code = new TextEncoder().encode(f.code);
      const message = new TextEncoder().encode(f.message.slice(0, 1000));
      return new ByteWriter().u8(FrameType.error).u32(f.reqId).u8(code.length).raw(code).bytes16(message).finish();
    }
  }
}

export function decodeHostFrame(bytes: Uint8Array): HostFrame {
  const r = new ByteReader(bytes, 'host frame');
  const t = r.u8();
  let f: HostFrame;
  if (t === FrameType.ready) f = { type: 'ready' };
  else if (t === FrameType.stored) f = { type: 'stored', reqId: r.u32(), serverId: r.u64(), receivedAt: r.u64() };
  else if (t === FrameType.envelope) f = { type: 'envelope', serverId: r.u64(), receivedAt: r.u64(), sender: readUsername(r), body: body(r) };
  else if (t === FrameType.error) {
    const reqId = r.u32();
    const dec = new TextDecoder('utf-8', { fatal: true });
    const raw = dec.decode(r.fixed(r.u8()));
    const code = Object.values(HostErrorCode).find((c) => c === raw) ?? 'Unknown';
    f = { type: 'error', reqId, code, message: dec.decode(r.bytes16(2000)) };
  } else return fail('DecodeFailed', `host frame type ${t}`);
  r.end();
  return f;
}

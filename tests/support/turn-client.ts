/**
 * A minimal TURN client over UDP for tests (RFC 8489 STUN, RFC 8656 TURN), enough to prove what
 * SECURITY.md P29 needs from a real coturn: Binding, Allocate with the long-term credential
 * mechanism (401 -> REALM + NONCE -> MESSAGE-INTEGRITY keyed with MD5(username:realm:password)),
 * CreatePermission, and Send/Data indications to push bytes through the relayed address.
 * IPv4 only. Messages carry FINGERPRINT; responses are matched by transaction id.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { crc32 } from 'node:zlib';

const MAGIC = 0x2112a442;

export const Method = { binding: 0x001, allocate: 0x003, refresh: 0x004, send: 0x006, data: 0x007, createPermission: 0x008 } as const;
const Class = { request: 0, indication: 1, success: 2, error: 3 } as const;

export const Attr = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  data: 0x0013,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
  fingerprint: 0x8028
} as const;

export interface Address {
  address: string;
  port: number;
}

export interface StunMessage {
  method: number;
  cls: number;
  txid: Buffer;
  attrs: Map<number, Buffer>;
}

const messageType = (method: number, cls: number): number =>
  (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

/** XOR-PEER-ADDRESS value; IPv4 only, so the XOR is with the magic cookie alone. */
function xorAddress(a: Address): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(0x01, 1);
  b.writeUInt16BE(a.port ^ (MAGIC >>> 16), 2);
  const ip = a.address.split('.').map(Number);
  b.writeUInt32BE(((((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0) ^ MAGIC) >>> 0, 4);
  return b;
}

export function readXorAddress(v: Buffer): Address {
  if (v.readUInt8(1) !== 0x01) throw new Error('only IPv4 addresses are supported');
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  const n = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { address: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), port };
}

/** Encodes a message; with `key`, appends MESSAGE-INTEGRITY (then FINGERPRINT over everything). */
export function encode(method: number, cls: number, txid: Buffer, attrs: [number, Buffer][], key?: Buffer): Buffer {
  let body = Buffer.concat(attrs.map(([t, v]) => attr(t, v)));
  const header = (len: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(messageType(method, cls), 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    txid.copy(h, 8);
    return h;
  };
  if (key) {
    // The HMAC covers the header with a length that already counts the integrity attribute.
    const mac = createHmac('sha1', key).update(Buffer.concat([header(body.length + 24), body])).digest();
    body = Buffer.concat([body, attr(Attr.messageIntegrity, mac)]);
  }
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0);
  body = Buffer.concat([body, attr(Attr.fingerprint, fp)]);
  return Buffer.concat([header(body.length), body]);
}

export function decode(b: Buffer): StunMessage | undefined {
  if (b.length < 20 || b.readUInt32BE(4) !== MAGIC || (b[0]! & 0xc0) !== 0) return undefined;
  const t = b.readUInt16BE(0);
  const method = (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
  const cls = ((t >> 4) & 1) | ((t >> 7) & 2);
  const attrs = new Map<number, Buffer>();
  let o = 20;
  const end = 20 + b.readUInt16BE(2);
  while (o + 4 <= end) {
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    if (!attrs.has(type)) attrs.set(type, b.subarray(o + 4, o + 4 + len));
    o += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { method, cls, txid: b.subarray(8, 20), attrs };
}

export interface TurnError {
  code: number;
  reason: string;
}

export function errorOf(m: StunMessage): TurnError | undefined {
  const v = m.attrs.get(Attr.errorCode);
  if (m.cls !== Class.error || !v) return undefined;
  return { code: (v[2]! & 7) * 100 + v[3]!, reason: v.subarray(4).toString('utf8') };
}

/** The long-term credential key (RFC 8489 §9.2.2), password used as given. */
export const longTermKey = (username: string, realm: string, password: string): Buffer =>
  createHash('md5').update(`${username}:${realm}:${password}`).digest();

export type AllocateResult = { ok: true; relayed: Address; lifetime: number } | { ok: false; error: TurnError };

export class TurnClient {
  private waiting = new Map<string, (m: StunMessage) => void>();
  private dataWaiters: ((d: { from: Address; data: Buffer }) => void)[] = [];
  readonly received: { from: Address; data: Buffer }[] = [];
  private auth?: { username: string; realm: string; nonce: Buffer; key: Buffer };

  private constructor(
    private readonly socket: Socket,
    readonly server: Address
  ) {
    socket.on('message', (buf) => {
      const m = decode(buf);
      if (!m) return;
      if (m.method === Method.data && m.cls === Class.indication) {
        const peer = m.attrs.get(Attr.xorPeerAddress);
        const data = m.attrs.get(Attr.data);
        if (!peer || !data) return;
        const d = { from: readXorAddress(peer), data: Buffer.from(data) };
        this.received.push(d);
        for (const w of this.dataWaiters.splice(0)) w(d);
        return;
      }
      this.waiting.get(m.txid.toString('hex'))?.(m);
    });
  }

  static async open(host: string, port: number): Promise<TurnClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new TurnClient(socket, { address: host, port });
  }

  /** Sends a request and waits for its response, retransmitting (RFC 8489 §6.2.1, shortened). */
  async request(method: number, attrs: [number, Buffer][], o: { key?: Buffer; timeoutMs?: number } = {}): Promise<StunMessage> {
    const txid = randomBytes(12);
    const msg = encode(method, Class.request, txid, attrs, o.key);
    const id = txid.toString('hex');
    const timeoutMs = o.timeoutMs ?? 3000;
    try {
      return await new Promise<StunMessage>((resolve, reject) => {
        this.waiting.set(id, resolve);
        let rto = 100;
        let elapsed = 0;
        const tick = () => {
          if (elapsed >= timeoutMs) return reject(new Error(`no STUN response within ${timeoutMs} ms`));
          if (!this.waiting.has(id)) return;
          this.socket.send(msg, this.server.port, this.server.address);
          elapsed += rto;
          setTimeout(tick, rto).unref();
          rto = Math.min(rto * 2, 800);
        };
        tick();
      });
    } finally {
      this.waiting.delete(id);
    }
  }

  /** Our address as the server sees it. */
  async binding(timeoutMs = 3000): Promise<Address> {
    const m = await this.request(Method.binding, [], { timeoutMs });
    const v = m.attrs.get(Attr.xorMappedAddress);
    if (m.cls !== Class.success || !v) throw new Error('binding failed');
    return readXorAddress(v);
  }

  /**
   * Allocates a UDP relay with the long-term credential: an unauthenticated first try earns a
   * 401 with REALM and NONCE, the second carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY.
   * A 438 (stale nonce) is retried once with the new nonce.
   */
  async allocate(username: string, password: string): Promise<AllocateResult> {
    const transport: [number, Buffer] = [Attr.requestedTransport, Buffer.from([17, 0, 0, 0])];
    let m = await this.request(Method.allocate, [transport]);
    for (let round = 0; round < 3; round++) {
      const err = errorOf(m);
      if (!err) break;
      const realm = m.attrs.get(Attr.realm);
      const nonce = m.attrs.get(Attr.nonce);
      if ((err.code !== 401 && err.code !== 438) || !realm || !nonce) return { ok: false, error: err };
      // A 401 after we already sent credentials is the answer: they were refused.
      if (err.code === 401 && this.auth) return { ok: false, error: err };
      const r = realm.toString('utf8');
      this.auth = { username, realm: r, nonce: Buffer.from(nonce), key: longTermKey(username, r, password) };
      m = await this.request(Method.allocate, [transport, ...this.credentials()], { key: this.auth.key });
    }
    const err = errorOf(m);
    if (err) return { ok: false, error: err };
    const relayed = m.attrs.get(Attr.xorRelayedAddress);
    const lifetime = m.attrs.get(Attr.lifetime);
    if (!relayed) throw new Error('allocate success without XOR-RELAYED-ADDRESS');
    return { ok: true, relayed: readXorAddress(relayed), lifetime: lifetime ? lifetime.readUInt32BE(0) : 0 };
  }

  private credentials(): [number, Buffer][] {
    const a = this.auth!;
    return [
      [Attr.username, Buffer.from(a.username, 'utf8')],
      [Attr.realm, Buffer.from(a.realm, 'utf8')],
      [Attr.nonce, a.nonce]
    ];
  }

  /** Lets `peer` send to our relayed address (and us to it). */
  async createPermission(peer: Address): Promise<TurnError | undefined> {
    if (!this.auth) throw new Error('allocate first');
    const m = await this.request(Method.createPermission, [[Attr.xorPeerAddress, xorAddress(peer)], ...this.credentials()], { key: this.auth.key });
    return errorOf(m);
  }

  /** Send indication: the server relays `data` from our relayed address to `peer`. */
  sendTo(peer: Address, data: Buffer): void {
    const msg = encode(Method.send, Class.indication, randomBytes(12), [
      [Attr.xorPeerAddress, xorAddress(peer)],
      [Attr.data, data]
    ]);
    this.socket.send(msg, this.server.port, this.server.address);
  }

  /** The next Data indication (or one already received and not yet taken). */
  nextData(timeoutMs = 3000): Promise<{ from: Address; data: Buffer }> {
    const have = this.received.shift();
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no relayed data within ${timeoutMs} ms`)), timeoutMs);
      this.dataWaiters.push((d) => {
        clearTimeout(t);
        this.received.splice(this.received.indexOf(d), 1);
        resolve(d);
      });
    });
  }

  /** Releases the allocation (Refresh with lifetime 0) if there is one, then closes the socket. */
  async release(): Promise<void> {
    if (this.auth) {
      await this.request(Method.refresh, [[Attr.lifetime, Buffer.from([0, 0, 0, 0])], ...this.credentials()], { key: this.auth.key, timeoutMs: 1000 }).catch(() => undefined);
    }
    this.close();
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

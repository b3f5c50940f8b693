/**
 * The after-connect certificate check (src/lib/client/calls/certificate.ts; SECURITY.md P27) on a
 * fake connection: every DTLS transport that started must present the certificate named inside
 * the ratchet; one still 'new' when the connection is up is not waited for (the check would hang
 * until the connect timeout hung up), but reported if it ever connects with another certificate;
 * when none has started yet, the first to start is checked and the rest watched the same way.
 */
import { describe, expect, test } from 'vitest';
import { verifyConnectedPeer } from '../../src/lib/client/calls/certificate';

const CERT = new Uint8Array([1, 2, 3, 4]).buffer;
const OTHER = new Uint8Array([9, 9, 9, 9]).buffer;
let expected: Uint8Array;

async function sha256(b: ArrayBuffer): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', b));
}

class FakeTransport extends EventTarget {
  constructor(
    public state: RTCDtlsTransportState,
    private cert: ArrayBuffer
  ) {
    super();
  }
  getRemoteCertificates(): ArrayBuffer[] {
    return this.state === 'connected' ? [this.cert] : [];
  }
  to(state: RTCDtlsTransportState, cert = this.cert): void {
    this.state = state;
    this.cert = cert;
    this.dispatchEvent(new Event('statechange'));
  }
}

function pc(...transports: FakeTransport[]): RTCPeerConnection {
  const hex = [...expected].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return {
    remoteDescription: { sdp: `v=0\r\na=fingerprint:sha-256 ${hex}\r\n` },
    getSenders: () => transports.map((transport) => ({ transport })),
    getReceivers: () => [],
    sctp: null
  } as unknown as RTCPeerConnection;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('P27 after-connect certificate check', () => {
  test('the transport that carries the call must present the certificate; another one fails', async () => {
    expected = await sha256(CERT);
    expect(await verifyConnectedPeer(pc(new FakeTransport('connected', CERT)), expected)).toBe(true);
    expect(await verifyConnectedPeer(pc(new FakeTransport('connected', OTHER)), expected)).toBe(false);
  });

  test('a transport that is still connecting is waited for', async () => {
    expected = await sha256(CERT);
    const t = new FakeTransport('connecting', CERT);
    const check = verifyConnectedPeer(pc(t), expected);
    await tick();
    t.to('connected');
    expect(await check).toBe(true);
  });

  test('a transport still "new" beside the connected one does not hang the check, and is reported if it connects with another certificate', async () => {
    expected = await sha256(CERT);
    const idle = new FakeTransport('new', CERT);
    const late: boolean[] = [];
    const check = verifyConnectedPeer(pc(new FakeTransport('connected', CERT), idle), expected, (ok) => late.push(ok));
    const result = await Promise.race([check, new Promise((r) => setTimeout(() => r('hung'), 500))]);
    expect(result).toBe(true);
    idle.to('connected', OTHER);
    await tick();
    await tick();
    expect(late).toEqual([false]);
  });

  test('none started when the connection is up: the first that starts is checked, and one BUNDLE left unused (never leaving "new") does not hang the check', async () => {
    expected = await sha256(CERT);
    const used = new FakeTransport('new', CERT);
    const unused = new FakeTransport('new', CERT);
    const late: boolean[] = [];
    const check = verifyConnectedPeer(pc(used, unused), expected, (ok) => late.push(ok));
    await tick();
    used.to('connecting');
    await tick();
    used.to('connected');
    const result = await Promise.race([check, new Promise((r) => setTimeout(() => r('hung'), 500))]);
    expect(result).toBe(true);
    // The unused one is still watched: connecting later with another certificate is reported.
    unused.to('connected', OTHER);
    await tick();
    await tick();
    expect(late).toEqual([false]);
    // And the first that starts must present the right certificate.
    const wrong = new FakeTransport('new', OTHER);
    const failing = verifyConnectedPeer(pc(wrong, new FakeTransport('new', CERT)), expected);
    await tick();
    wrong.to('connected');
    expect(await failing).toBe(false);
  });

  test('a watched transport whose certificate cannot be read once it connects is reported, not left as an unhandled rejection', async () => {
    expected = await sha256(CERT);
    const idle = new FakeTransport('new', CERT);
    idle.getRemoteCertificates = () => {
      throw new DOMException('gone', 'InvalidStateError');
    };
    const late: boolean[] = [];
    expect(await verifyConnectedPeer(pc(new FakeTransport('connected', CERT), idle), expected, (ok) => late.push(ok))).toBe(true);
    idle.to('connected');
    await tick();
    await tick();
    expect(late).toEqual([false]);
  });
});

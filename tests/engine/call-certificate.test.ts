/**
 * P27, the check once DTLS is up (src/lib/client/calls/certificate.ts verifyConnectedPeer): the
 * remote SDP's fingerprint AND the SHA-256 of the certificate the peer actually presented must
 * both equal the fingerprint received inside the ratchet. The peer connection is a fake shaped
 * like Chromium's (RTCDtlsTransport.getRemoteCertificates), with a real SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, test, vi } from 'vitest';
import { STATS_WAIT_MS, TRANSPORT_LAG_MS, verifyConnectedPeer } from '../../src/lib/client/calls/certificate';

const der = (): Uint8Array => new Uint8Array(randomBytes(300));
const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const sdpLine = (fp: Uint8Array): string => `a=fingerprint:sha-256 ${[...fp].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
const sdpWith = (fp: Uint8Array): string => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', sdpLine(fp), ''].join('\r\n');

interface Shape {
  sdp?: string;
  /** undefined: no transport at all; 'absent': a transport without getRemoteCertificates (Firefox). */
  certs?: ArrayBuffer[] | 'absent';
  /** The transport's state when checked (default 'connected'). */
  state?: RTCDtlsTransportState;
  /** What getStats answers: the DTLS transports' own states and the certificates they presented. */
  stats?: { dtlsState: string; der?: Uint8Array }[];
}

class FakeTransport extends EventTarget {
  constructor(
    public state: RTCDtlsTransportState,
    readonly certs: ArrayBuffer[] | 'absent'
  ) {
    super();
    if (certs !== 'absent') Object.assign(this, { getRemoteCertificates: () => (this.state === 'connected' ? certs : []) });
  }
  /** What Chromium does a moment after 'connectionstatechange': the transport's own state moves. */
  move(state: RTCDtlsTransportState): void {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
}

/** Chromium's shape: RTCTransportStats naming an RTCCertificateStats with a colon-hex SHA-256. */
function statsReport(stats: NonNullable<Shape['stats']>): Map<string, Record<string, unknown>> {
  const report = new Map<string, Record<string, unknown>>([['P1', { type: 'candidate-pair', state: 'succeeded' }]]);
  stats.forEach((t, i) => {
    report.set(`T${i}`, { type: 'transport', dtlsState: t.dtlsState, ...(t.der ? { remoteCertificateId: `C${i}` } : {}) });
    if (t.der) report.set(`C${i}`, { type: 'certificate', fingerprintAlgorithm: 'sha-256', fingerprint: [...sha256(t.der)].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':') });
  });
  return report;
}

function fakePc({ sdp, certs, state = 'connected', stats = [] }: Shape): { pc: RTCPeerConnection; transport: FakeTransport | null } {
  const transport = certs === undefined ? null : new FakeTransport(state, certs);
  const pc = {
    remoteDescription: sdp === undefined ? null : { type: 'answer', sdp },
    getSenders: () => [{ transport }],
    getReceivers: () => [{ transport }],
    getStats: async () => statsReport(stats),
    sctp: null
  } as unknown as RTCPeerConnection;
  return { pc, transport };
}

const verify = (shape: Shape, expected: Uint8Array) => verifyConnectedPeer(fakePc(shape).pc, expected);
const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

describe('P27: once DTLS is up, the presented certificate must be the one named in the ratchet', () => {
  const cert = der();
  const expected = sha256(cert);

  test('matching SDP fingerprint and matching presented certificate: verified', async () => {
    expect(await verify({ sdp: sdpWith(expected), certs: [buf(cert)] }, expected)).toBe(true);
  });

  test('SDP says the right fingerprint but the handshake presented another certificate: refused', async () => {
    expect(await verify({ sdp: sdpWith(expected), certs: [buf(der())] }, expected)).toBe(false);
  });

  test('the certificate matches but the SDP names another fingerprint: refused', async () => {
    expect(await verify({ sdp: sdpWith(sha256(der())), certs: [buf(cert)] }, expected)).toBe(false);
  });

  test('a connected transport that lists no certificate: refused', async () => {
    expect(await verify({ sdp: sdpWith(expected), certs: [] }, expected)).toBe(false);
  });

  test('no remote description or no DTLS transport: refused', async () => {
    expect(await verify({ certs: [buf(cert)] }, expected)).toBe(false);
    expect(await verify({ sdp: sdpWith(expected) }, expected)).toBe(false);
  });

  test('the transport catches up after the connection reports connected: checked then, not skipped', async () => {
    for (const [cert2, want] of [[cert, true], [der(), false]] as const) {
      const { pc, transport } = fakePc({ sdp: sdpWith(expected), certs: [buf(cert2)], state: 'connecting' });
      const result = verifyConnectedPeer(pc, expected);
      let settled = false;
      void result.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 5));
      expect(settled).toBe(false);
      transport!.move('connected');
      expect(await result).toBe(want);
    }
  });

  test('a transport that fails instead of connecting: refused', async () => {
    const { pc, transport } = fakePc({ sdp: sdpWith(expected), certs: [buf(cert)], state: 'connecting' });
    const result = verifyConnectedPeer(pc, expected);
    transport!.move('failed');
    expect(await result).toBe(false);
  });

  test('a browser without getRemoteCertificates: the SDP check decides (DTLS binds it to the certificate)', async () => {
    expect(await verify({ sdp: sdpWith(expected), certs: 'absent' }, expected)).toBe(true);
    expect(await verify({ sdp: sdpWith(sha256(der())), certs: 'absent' }, expected)).toBe(false);
  });

  // Chromium 156.0.8078.129: the transport object from the senders can stay 'new' or 'connecting',
  // with no further event, while the connection is up. Its stats read the transport itself.
  test('a transport object that never catches up: after TRANSPORT_LAG_MS the stats decide, from the certificate the peer presented', async () => {
    for (const stuck of ['new', 'connecting'] as const) {
      const ok = await verify({ sdp: sdpWith(expected), certs: [buf(cert)], state: stuck, stats: [{ dtlsState: 'connected', der: cert }] }, expected);
      expect(ok, `stuck at ${stuck}, the right certificate`).toBe(true);
      const other = await verify({ sdp: sdpWith(expected), certs: [buf(cert)], state: stuck, stats: [{ dtlsState: 'connected', der: der() }] }, expected);
      expect(other, `stuck at ${stuck}, another certificate`).toBe(false);
    }
    // Every connected transport must present it; an unused one (BUNDLE) is not connected and not asked.
    expect(await verify({ sdp: sdpWith(expected), certs: [buf(cert)], state: 'new', stats: [{ dtlsState: 'connected', der: cert }, { dtlsState: 'connected', der: der() }] }, expected)).toBe(false);
    expect(await verify({ sdp: sdpWith(expected), certs: [buf(cert)], state: 'new', stats: [{ dtlsState: 'new' }, { dtlsState: 'connected', der: cert }] }, expected)).toBe(true);
    // A connected transport with no certificate in the stats is refused, as one that lists none.
    expect(await verify({ sdp: sdpWith(expected), certs: [buf(cert)], state: 'new', stats: [{ dtlsState: 'connected' }] }, expected)).toBe(false);
  });

  test('stats that never show a connected DTLS transport: refused after STATS_WAIT_MS, not waited on for good', async () => {
    vi.useFakeTimers();
    try {
      const result = verify({ sdp: sdpWith(expected), certs: [buf(cert)], state: 'connecting', stats: [{ dtlsState: 'connecting' }] }, expected);
      let settled = false;
      void result.then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(TRANSPORT_LAG_MS + STATS_WAIT_MS - 200);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(400);
      expect(await result).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

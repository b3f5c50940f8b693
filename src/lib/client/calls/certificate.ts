/**
 * The per-call DTLS certificate (DESIGN.md §6): generated before the call, handed to PeerJS via
 * `config.certificates`, so its SHA-256 fingerprint is known in advance and can be sent inside the
 * ratchet. Also the after-connect check of the certificate the peer actually used (P27).
 */
import { bytesEqual } from '$lib/codec/bytes';
import { parseFingerprint, sdpMatchesFingerprint } from '$lib/wire/call';

export interface CallCertificate {
  certificate: RTCCertificate;
  /** SHA-256 of the certificate (DER), 32 bytes: what goes into the call offer/answer. */
  fingerprint: Uint8Array;
}

export async function generateCallCertificate(): Promise<CallCertificate> {
  const certificate = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams);
  const fp = certificate.getFingerprints().find((f) => f.algorithm?.toLowerCase() === 'sha-256');
  const fingerprint = fp?.value ? parseFingerprint(fp.value) : undefined;
  if (!fingerprint) throw new Error('the browser gave no sha-256 certificate fingerprint');
  return { certificate, fingerprint };
}

type DtlsTransportWithCerts = RTCDtlsTransport & { getRemoteCertificates?: () => ArrayBuffer[] };

/** Every DTLS transport of the connection (one when bundled), media and data channel alike. */
function dtlsTransports(pc: RTCPeerConnection): DtlsTransportWithCerts[] {
  const all = [...pc.getSenders(), ...pc.getReceivers()].map((x) => x.transport);
  all.push(pc.sctp?.transport ?? null);
  return [...new Set(all.filter((t): t is RTCDtlsTransport => t !== null && t !== undefined))];
}

/**
 * Resolves true once `t` is connected, false if it fails or closes. The page may hear of the
 * connection ('connectionstatechange') before the transport object's own state has caught up.
 */
function whenConnected(t: RTCDtlsTransport): Promise<boolean> {
  const settled = () => t.state === 'connected' || t.state === 'failed' || t.state === 'closed';
  if (settled()) return Promise.resolve(t.state === 'connected');
  return new Promise((resolve) => {
    const on = () => {
      if (!settled()) return;
      t.removeEventListener('statechange', on);
      resolve(t.state === 'connected');
    };
    t.addEventListener('statechange', on);
  });
}

async function presents(t: DtlsTransportWithCerts, expected: Uint8Array): Promise<boolean> {
  const certs = t.getRemoteCertificates!();
  if (certs.length === 0) return false;
  return bytesEqual(new Uint8Array(await crypto.subtle.digest('SHA-256', certs[0]!)), expected);
}

/**
 * Once DTLS is up (connectionState 'connected'): the remote description's `a=fingerprint` must
 * equal the fingerprint received end to end, and so must the SHA-256 of the certificate the peer
 * presented on every DTLS transport of the connection. Browsers without `getRemoteCertificates`
 * (Firefox) rely on the SDP check, which DTLS binds to the certificate.
 *
 * A transport still 'new' when the connection is up has started no handshake and carries nothing
 * (one BUNDLE dropped, say): it is not waited for, which could hang the check for good, but
 * watched, and `later(false)` reports it if it ever connects with another certificate. When the
 * transport objects trail the connection by more than TRANSPORT_LAG_MS, the stats decide
 * (`presentsByStats`).
 */
export async function verifyConnectedPeer(pc: RTCPeerConnection, expected: Uint8Array, later: (ok: boolean) => void = () => undefined): Promise<boolean> {
  const sdp = pc.remoteDescription?.sdp;
  if (!sdp || !sdpMatchesFingerprint(sdp, expected)) return false;
  const transports = dtlsTransports(pc);
  if (transports.length === 0) return false;
  if (transports.some((t) => typeof t.getRemoteCertificates !== 'function')) return true;
  // None started yet (the page heard of the connection before the transports' own state caught
  // up): wait until one has. Waiting for all instead hung for good when one of them was a
  // transport BUNDLE left unused, which never leaves 'new' (until the connect timeout hung up).
  if ((await lagging(whenAnyStarted(transports))) === LAGGING) return presentsByStats(pc, expected);
  const idle = transports.filter((t) => t.state === 'new');
  const started = transports.filter((t) => t.state !== 'new');
  for (const t of started) {
    const up = await lagging(whenConnected(t));
    if (up === LAGGING) return presentsByStats(pc, expected);
    if (!up || !(await presents(t, expected))) return false;
  }
  // A watched transport whose certificate cannot be read is reported like a wrong one (P27).
  for (const t of idle) {
    void whenConnected(t)
      .then(async (up) => up && later(await presents(t, expected)))
      .catch(() => later(false));
  }
  return true;
}

/** How long the transport objects' own state may trail the connection's before the stats decide. */
export const TRANSPORT_LAG_MS = 1000;
/** How long the stats may take to show a connected DTLS transport; then the check fails. */
export const STATS_WAIT_MS = 5000;
const LAGGING = Symbol('lagging');

function lagging<T>(p: Promise<T>): Promise<T | typeof LAGGING> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LAGGING>((resolve) => (timer = setTimeout(() => resolve(LAGGING), TRANSPORT_LAG_MS)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The same check read from the connection's stats: at least one DTLS transport is connected, and
 * every connected one presented a certificate whose SHA-256 (RTCTransportStats.remoteCertificateId
 * to RTCCertificateStats.fingerprint) is the expected one. Used when the transport objects lag:
 * Chromium 156.0.8078.129 has handed out objects whose state stayed 'new' or 'connecting', with no
 * further event, while the connection was up, so waiting on them held the call on "Connecting and
 * verifying…" until the connect timeout. The stats read the transport itself.
 */
async function presentsByStats(pc: RTCPeerConnection, expected: Uint8Array): Promise<boolean> {
  const end = Date.now() + STATS_WAIT_MS;
  for (;;) {
    const report = await pc.getStats().catch(() => undefined);
    if (!report) return false;
    const connected = [...(report.values() as Iterable<Record<string, unknown>>)].filter((s) => s.type === 'transport' && s.dtlsState === 'connected');
    if (connected.length > 0) return connected.every((t) => certificateIs(report, t.remoteCertificateId, expected));
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function certificateIs(report: RTCStatsReport, id: unknown, expected: Uint8Array): boolean {
  const c = typeof id === 'string' ? (report.get(id) as { fingerprint?: unknown; fingerprintAlgorithm?: unknown } | undefined) : undefined;
  if (typeof c?.fingerprint !== 'string' || String(c.fingerprintAlgorithm).toLowerCase() !== 'sha-256') return false;
  const fp = parseFingerprint(c.fingerprint);
  return fp !== undefined && bytesEqual(fp, expected);
}

/** Resolves once any of `ts` has left 'new' (at once if one already has). */
function whenAnyStarted(ts: RTCDtlsTransport[]): Promise<void> {
  if (ts.some((t) => t.state !== 'new')) return Promise.resolve();
  return new Promise((resolve) => {
    const on = () => {
      if (!ts.some((t) => t.state !== 'new')) return;
      for (const t of ts) t.removeEventListener('statechange', on);
      resolve();
    };
    for (const t of ts) t.addEventListener('statechange', on);
  });
}

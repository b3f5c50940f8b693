/**
 * The per-call DTLS certificate (DESIGN.md §6): generated before the call, handed to PeerJS via
 * `config.certificates`, so its SHA-256 fingerprint is known in advance and can be sent inside the
 * ratchet. Also the after-connect check of the certificate the peer actually used (P27).
 */
import { bytesEqual } from '$lib/wire/bytes';
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

/**
 * After connecting: the remote description's `a=fingerprint` must equal the fingerprint received
 * end to end, and — where the browser exposes it — so must the hash of the certificate the peer
 * presented in the DTLS handshake.
 */
export async function verifyConnectedPeer(pc: RTCPeerConnection, expected: Uint8Array): Promise<boolean> {
  const sdp = pc.remoteDescription?.sdp;
  if (!sdp || !sdpMatchesFingerprint(sdp, expected)) return false;
  const transport = pc.getSenders().find((s) => s.transport)?.transport ?? pc.getReceivers().find((r) => r.transport)?.transport;
  const certs = (transport as (RTCDtlsTransport & { getRemoteCertificates?: () => ArrayBuffer[] }) | null | undefined)?.getRemoteCertificates?.();
  if (!certs || certs.length === 0) return true; // not exposed: the SDP check plus DTLS itself bind it
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', certs[0]!));
  return bytesEqual(digest, expected);
}

/**
 * The P27/P28 checks at the PeerJS layer (SECURITY.md P27, P28; DESIGN.md §6): every SDP that
 * crosses the (untrusted) PeerServer must carry the DTLS fingerprint received end to end, and is
 * checked BEFORE WebRTC applies it — so no DTLS handshake, and no media, ever happens with a
 * certificate the other person did not name inside the ratchet.
 *
 * - caller: `guardAnswer` intercepts the ANSWER message PeerJS would apply;
 * - callee: `incomingCallVerified` checks the offer SDP (and the sender's peer id) before answering.
 * PeerJS ids prove nothing (P28): the id check only filters noise, the fingerprint decides.
 */
import { sdpMatchesFingerprint } from '$lib/wire/call';
import type { MediaConnection } from './peer';

type SdpPayload = { sdp?: { sdp?: unknown } } | undefined;

/** Wraps the connection's message handler: a mismatching ANSWER is dropped and reported. */
export function guardAnswer(conn: MediaConnection, expected: Uint8Array, onMismatch: () => void): void {
  const apply = conn.handleMessage.bind(conn);
  conn.handleMessage = (message) => {
    if (message.type === 'ANSWER') {
      const sdp = (message.payload as SdpPayload)?.sdp?.sdp;
      if (typeof sdp !== 'string' || !sdpMatchesFingerprint(sdp, expected)) return onMismatch();
    }
    apply(message);
  };
}

/** An incoming PeerJS call is from the expected peer id and offers the expected certificate. */
export function incomingCallVerified(conn: MediaConnection, theirs: { peerId: string; fingerprint: Uint8Array }): boolean {
  // PeerJS keeps the relayed OFFER payload in options._payload until answer() uses it.
  const sdp = (conn as unknown as { options?: { _payload?: SdpPayload } }).options?._payload?.sdp?.sdp;
  return conn.peer === theirs.peerId && typeof sdp === 'string' && sdpMatchesFingerprint(sdp, theirs.fingerprint);
}

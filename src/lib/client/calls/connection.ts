/**
 * One call's PeerJS connection and its verification wiring (DESIGN.md §6; SECURITY.md P27, P28).
 *
 * Who dials whom: the CALLEE calls the caller's fresh id. It builds that PeerJS call while the
 * phone rings and lets its signalling go the moment the person accepts, in parallel with its
 * answer inside the ratchet, so the two trips overlap instead of adding up (what bench:call
 * measures). The caller holds that PeerJS call, unanswered, until the ratchet's answer names
 * the callee's id and certificate.
 *
 * Every SDP that crosses the PeerServer is checked against the fingerprint received end to end
 * BEFORE it is applied (the callee intercepts the ANSWER, the caller checks the OFFER before
 * answering), so no media is ever sent to an unverified peer; a mismatch hangs up on both sides
 * with "call could not be verified" (the other side is told inside the ratchet). PeerJS ids are
 * random per call and carry no trust (P28): whoever holds an id still has to hold the certificate.
 * Once DTLS is up, both sides re-check the remote SDP and the DTLS certificate actually presented.
 *
 * Owns: the peer's fatal errors, dialling / answering, watching ICE, the after-connect check.
 * Must not know: the ratchet, ringing, the call log or Svelte state — it reports to its host.
 */
import type { CallSignal } from '$lib/wire/call';
import { verifyConnectedPeer } from './certificate';
import { guardAnswer, incomingCallVerified } from './guards';
import { startTimer, type CallPhase, type Live } from './live-call';
import { holdSignalling } from './held-signalling';
import { attachWhenReady, detachSenders, makeStandIn } from './stand-in';
import type { EndReason } from './outcome';
import { whenOpen, type MediaConnection, type Peer } from './peer';

/** What the connection needs from the controller that owns the call. */
export interface ConnectionHost {
  phase(): CallPhase;
  /** The call is still the controller's current one and has not ended. */
  current(live: Live): boolean;
  end(live: Live, reason: EndReason, notify?: CallSignal): void;
  /** The other side's media arrived. */
  remote(live: Live, stream: MediaStream): void;
  /** The remote SDP and certificate matched the ratchet's fingerprint: the call is up. */
  verified(live: Live): void;
}

export interface ConnectionOptions {
  dropGraceMs: number;
}

/** PeerJS calls held while the answer inside the ratchet is on its way (one is expected). */
const MAX_HELD_CALLS = 4;

// The other id is gone, ours is refused, or the browser cannot do WebRTC.
const FATAL_PEER_ERRORS = new Set<string>(['peer-unavailable', 'unavailable-id', 'invalid-id', 'browser-incompatible', 'ssl-unavailable', 'server-error']);

export class CallConnection {
  readonly #host: ConnectionHost;
  readonly #opts: ConnectionOptions;

  constructor(host: ConnectionHost, opts: ConnectionOptions) {
    this.#host = host;
    this.#opts = opts;
  }

  /** Takes `peer` (at the call's fresh id, carrying its certificate) into the call: fatal errors end it. */
  adopt(live: Live, peer: Peer): void {
    peer.on('error', (e) => {
      // A lost signalling socket is not fatal: the handshake may already be done, and the
      // connect timeout ends a call that never gets there.
      const phase = this.#host.phase();
      if (!FATAL_PEER_ERRORS.has(e.type) || !this.#host.current(live) || phase === 'active') return;
      this.#host.end(live, 'failed', live.direction === 'out' && phase === 'outgoing' ? { type: 'cancel', callId: live.callId } : { type: 'hangup', callId: live.callId, reason: 'ended' });
    });
  }

  /**
   * Caller: PeerJS calls arriving at our fresh id. One that comes before the callee's answer has
   * arrived inside the ratchet is held, unanswered, until `answered` can check it.
   */
  listen(live: Live, peer: Peer): void {
    peer.on('call', (conn) => this.#incoming(live, conn));
  }

  /** Caller: the answer arrived inside the ratchet; calls held until now are checked against it. */
  answered(live: Live): void {
    const held = live.held ?? [];
    live.held = undefined;
    for (const conn of held) this.#incoming(live, conn);
  }

  /**
   * Callee, from the moment it rings: builds the PeerJS call to the caller's fresh id with
   * stand-in tracks (stand-in.ts), HOLDING every signalling message it would send
   * (held-signalling.ts), so that accepting only has to let them go. Nothing leaves this browser
   * before the person accepts. False if it could not (then `place` dials with real media).
   */
  async prepareDial(live: Live, peer: Peer): Promise<boolean> {
    peer.on('call', (conn) => conn.close()); // nobody may call the callee's id
    const standIn = live.standIn ?? makeStandIn(live.media === 'video');
    live.standIn = undefined;
    if (!standIn) return false;
    // PeerJS drops what is sent before its socket is open. An open (warm) peer goes on at once,
    // in the same task, so that the call is being built while the incoming screen is drawn.
    const open = peer.open || (await whenOpen(peer).then(() => true, () => false));
    if (!open || !this.#host.current(live) || !live.theirs) {
      standIn.release();
      return false;
    }
    live.heldSignals = holdSignalling(peer, live.theirs.peerId);
    const conn = this.#callCaller(live, peer, live.theirs, standIn.stream);
    // Generator stand-ins never produce a frame; the Web Audio / canvas ones would, so detach them.
    if (!standIn.silent) detachSenders(conn.peerConnection);
    setTimeout(() => standIn.release(), 0); // closing its audio context is slow; not now
    return true;
  }

  /**
   * Callee, on accept (in parallel with its answer inside the ratchet): lets the prepared call go
   * and puts our real tracks in when getUserMedia returns; without a prepared call, dials now
   * with real media. The caller checks our id and certificate before answering.
   */
  async place(live: Live, peer: Peer, prepared: Promise<boolean>): Promise<void> {
    if (await prepared) {
      if (!this.#host.current(live)) return;
      attachWhenReady(live.conn!.peerConnection, live.localReady ?? Promise.reject(new Error('no media')), () => this.#host.current(live));
      live.heldSignals?.release();
      live.heldSignals = undefined;
      return;
    }
    const [local, open] = await Promise.all([
      live.localReady?.catch(() => undefined), // accept() reports a failure
      whenOpen(peer).then(() => true, () => false) // the peer's error handler ends the call
    ]);
    if (!local || !open || !this.#host.current(live) || !live.theirs) return;
    this.#callCaller(live, peer, live.theirs, local);
  }

  /** Callee: the PeerJS call to the caller's id, its ANSWER checked before PeerJS applies it (P27). */
  #callCaller(live: Live, peer: Peer, theirs: NonNullable<Live['theirs']>, stream: MediaStream): MediaConnection {
    const conn = peer.call(theirs.peerId, stream);
    live.conn = conn;
    guardAnswer(conn, theirs.fingerprint, () => this.unverified(live));
    this.#watch(live, conn);
    return conn;
  }

  unverified(live: Live): void {
    this.#host.end(live, 'unverified', { type: 'hangup', callId: live.callId, reason: 'unverified' });
  }

  /** Caller: a PeerJS call at our fresh id; only the callee's id and certificate may connect (P27, P28). */
  #incoming(live: Live, conn: MediaConnection): void {
    if (!this.#host.current(live) || live.conn) return conn.close();
    if (!live.theirs) {
      // Not answered inside the ratchet yet: hold it (a few at most, so a flood cannot grow this).
      live.held ??= [];
      if (live.held.length >= MAX_HELD_CALLS) return conn.close();
      live.held.push(conn);
      return;
    }
    if (!incomingCallVerified(conn, live.theirs)) {
      conn.close();
      return this.unverified(live);
    }
    live.conn = conn;
    void live.localReady?.then(
      (stream) => {
        if (!this.#host.current(live)) return;
        conn.answer(stream);
        this.#watch(live, conn);
      },
      () => undefined // start() reports the media problem
    );
  }

  #watch(live: Live, conn: MediaConnection): void {
    conn.on('stream', (remote) => {
      if (this.#host.current(live)) this.#host.remote(live, remote);
    });
    conn.on('close', () => {
      if (this.#host.current(live)) this.#host.end(live, 'remote-hangup');
    });
    conn.on('error', () => undefined);
    this.#onSilentClose(live, conn);
    const pc = conn.peerConnection;
    let drop: ReturnType<typeof setTimeout> | undefined;
    // Checked once, when DTLS is first up (not at ICE connected: the peer's certificate is not there yet).
    let checked = false;
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState !== 'connected' || checked) return;
      checked = true;
      void this.#verify(live, pc);
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      const state = pc.iceConnectionState;
      if (state === 'connected' || state === 'completed') {
        if (drop) clearTimeout(drop);
        drop = undefined;
      } else if (state === 'disconnected') {
        // A network blip: give ICE a moment to recover on its own, else end cleanly on both sides.
        drop ??= startTimer(live, this.#opts.dropGraceMs, () => this.#host.end(live, 'connection-lost', { type: 'hangup', callId: live.callId, reason: 'ended' }));
      } else if (state === 'failed') {
        this.#host.end(live, 'connection-lost', { type: 'hangup', callId: live.callId, reason: 'ended' });
      }
    });
  }

  /**
   * PeerJS closes a call that is not open yet (no ANSWER applied) WITHOUT its 'close' event, and
   * its RTCPeerConnection with no state event: when the PeerServer says the other id left
   * (LEAVE), on a second OFFER for the same connection, or when the peer is destroyed. Unseen,
   * the call would sit on "Connecting" until the connect timeout; so every close of the call
   * while it is still ours ends it now, telling the other side inside the ratchet. One hangup per
   * call at most, the same the connect timeout would send (a host that forges LEAVE only ends a
   * call it could already stall by withholding signalling).
   */
  #onSilentClose(live: Live, conn: MediaConnection): void {
    const close = conn.close.bind(conn);
    conn.close = () => {
      close(); // an open call emits 'close' in here: ended above as 'remote-hangup'
      if (this.#host.current(live)) this.#host.end(live, 'connection-lost', { type: 'hangup', callId: live.callId, reason: 'ended' });
    };
  }

  /** Once DTLS is up (P27): the remote SDP and the DTLS certificate must match the ratchet's. */
  async #verify(live: Live, pc: RTCPeerConnection): Promise<void> {
    const late = (ok: boolean) => {
      if (!ok && this.#host.current(live)) this.unverified(live);
    };
    const ok = await verifyConnectedPeer(pc, live.theirs!.fingerprint, late).catch(() => false);
    if (!this.#host.current(live)) return;
    if (!ok) return this.unverified(live);
    live.verified = true;
    this.#host.verified(live);
  }
}

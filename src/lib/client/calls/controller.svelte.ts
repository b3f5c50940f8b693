/**
 * The call controller on the main thread (DESIGN.md §6; SECURITY.md P27–P29; issue 4).
 *
 *   caller (Alice)                             callee (Bob)
 *   cert A, random peer id A, media
 *   ── offer {callId, peerId A, fp A, media, sentAt} (inside the ratchet) ──▶  ring, 45 s -> missed
 *                                              accept: cert B, random peer id B, media
 *   ◀── answer {callId, peerId B, fp B} (inside the ratchet) ──
 *   PeerJS call to peer id B (via PeerServer) ──▶ offer SDP must carry fp A, from peer id A
 *   answer SDP must carry fp B  ◀── PeerJS answer with media
 *   ICE connects: both re-check the remote SDP and the DTLS certificate actually presented.
 *
 * Every SDP that crosses the PeerServer is checked against the fingerprint received end to end
 * BEFORE it is applied (the caller intercepts the ANSWER, the callee checks the OFFER before
 * answering), so no media is ever sent to an unverified peer; a mismatch hangs up on both sides
 * with "call could not be verified" (the other side is told inside the ratchet). PeerJS ids are
 * random per call and carry no trust (P28): whoever holds an id still has to hold the certificate.
 *
 * Holds no key material (the ratchet is in the vault worker); talks to it through `CallPort`.
 */
import { toHex } from '$lib/wire/bytes';
import {
  admitOffer,
  decodeCallSignal,
  encodeCallSignal,
  type CallAnswer,
  type CallMedia,
  type CallOffer,
  type CallSignal
} from '$lib/wire/call';
import type { CallLogEntry, IceServers } from '../types';
import { verifyConnectedPeer, type CallCertificate } from './certificate';
import { guardAnswer, incomingCallVerified } from './guards';
import { CallResources, RelayUnavailable } from './resources';
import { explainMediaError, getCallMedia, getScreenTrack, MediaProblem, mediaPermission, stopStream } from './media';
import { endTitle, outcomeFor, UNVERIFIED_DETAIL, type EndReason } from './outcome';
import { openPeer, preloadPeerJs, signallingFromLocation, type MediaConnection, type Peer, type SignallingServer } from './peer';
import { startRingtone, type Ringtone } from './ringtone';

/** What the controller needs from the vault (VaultClient in the app; fakes in harnesses). */
export interface CallPort {
  send(chat: string, signal: Uint8Array): Promise<void>;
  record(chat: string, entry: CallLogEntry): Promise<void>;
  iceServers(): Promise<IceServers>;
  onSignal(listener: (chat: string, signal: Uint8Array) => void): () => void;
}

export interface CallOptions {
  ringTimeoutMs?: number;
  relayOnly?: () => boolean;
  /** How long "ICE disconnected" may last before the call ends cleanly (default 8 s). */
  dropGraceMs?: number;
  /** From answer to verified connection (default 30 s). */
  connectTimeoutMs?: number;
  /** How long the "call ended" screen stays (default 4 s; 0 = until dismissed). */
  endedLingerMs?: number;
  signalling?: SignallingServer;
  now?: () => number;
  rng?: (n: number) => Uint8Array;
  ringtone?: () => Ringtone;
}

export type CallPhase = 'idle' | 'outgoing' | 'incoming' | 'connecting' | 'active' | 'ended';

interface Live {
  callId: string;
  chat: string;
  media: CallMedia;
  direction: 'in' | 'out';
  startedAt: number;
  connectedAt?: number;
  ended: boolean;
  verified: boolean;
  ourPeerId: string;
  cert?: CallCertificate;
  theirs?: { peerId: string; fingerprint: Uint8Array };
  offer?: CallOffer;
  peer?: Peer;
  conn?: MediaConnection;
  local?: MediaStream;
  /** Resolves with our media once getUserMedia is done (started in parallel with signalling). */
  localReady?: Promise<MediaStream>;
  screen?: MediaStreamTrack;
  ring?: Ringtone;
  timers: Set<ReturnType<typeof setTimeout>>;
}

const SEEN_TTL_MS = 10 * 60_000;
const FATAL_PEER_ERRORS = new Set<string>(['peer-unavailable', 'unavailable-id', 'invalid-id', 'browser-incompatible', 'ssl-unavailable', 'server-error']);

export class CallController {
  phase = $state<CallPhase>('idle');
  chat = $state<string | undefined>();
  media = $state<CallMedia>('audio');
  direction = $state<'in' | 'out'>('out');
  muted = $state(false);
  cameraOff = $state(false);
  sharing = $state(false);
  connectedAt = $state<number | undefined>();
  /** How long the last call was connected (shown on the ended screen). */
  durationMs = $state(0);
  endReason = $state<EndReason | undefined>();
  /** A sentence for the person when something needs their action (permissions, relay). */
  problem = $state<string | undefined>();
  localStream = $state.raw<MediaStream | undefined>();
  remoteStream = $state.raw<MediaStream | undefined>();

  readonly #port: CallPort;
  readonly #opts: Required<Omit<CallOptions, 'signalling'>> & { signalling?: SignallingServer };
  // Plain collections on purpose: bookkeeping, never rendered.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #seen = new Map<string, number>();
  #live: Live | undefined;
  readonly #resources: CallResources;
  readonly #off: () => void;

  constructor(port: CallPort, opts: CallOptions = {}) {
    this.#port = port;
    this.#opts = {
      ringTimeoutMs: opts.ringTimeoutMs ?? 45_000,
      relayOnly: opts.relayOnly ?? (() => false),
      dropGraceMs: opts.dropGraceMs ?? 8000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
      endedLingerMs: opts.endedLingerMs ?? 4000,
      signalling: opts.signalling,
      now: opts.now ?? Date.now,
      rng: opts.rng ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
      ringtone: opts.ringtone ?? startRingtone
    };
    this.#off = port.onSignal((chat, bytes) => this.#onSignal(chat, bytes));
    this.#resources = new CallResources(() => port.iceServers(), this.#opts.now);
    void preloadPeerJs().catch(() => undefined);
  }


  /** True while a call is being placed, rings, connects or runs. */
  get busy(): boolean {
    return this.phase === 'outgoing' || this.phase === 'incoming' || this.phase === 'connecting' || this.phase === 'active';
  }

  get title(): string {
    return this.endReason ? endTitle(this.endReason, this.direction, this.chat ?? '') : '';
  }

  get detail(): string | undefined {
    return this.endReason === 'unverified' ? UNVERIFIED_DETAIL : this.problem;
  }

  // ---- user actions ----

  async start(chat: string, media: CallMedia): Promise<void> {
    if (this.busy) return;
    const live = this.#begin(chat, media, 'out', this.#hexId());
    this.phase = 'outgoing';
    try {
      // Access already granted: start the devices in parallel and ring at once. Otherwise ask
      // first, so that a refusal never rings the other side.
      const permission = await mediaPermission(media === 'video');
      if (permission === 'denied') throw explainMediaError(new DOMException('denied', 'NotAllowedError'), media === 'video');
      const local = this.#startMedia(live);
      if (permission !== 'granted') await local;
      const [cert, ice] = await Promise.all([this.#resources.certificate(), this.#resources.iceServers(this.#opts.relayOnly())]);
      live.cert = cert;
      if (!this.#current(live)) return;
      live.peer = await this.#openPeer(live, cert, ice);
      if (!this.#current(live)) return;
      await this.#port.send(chat, encodeCallSignal({ type: 'offer', callId: live.callId, peerId: live.ourPeerId, dtlsFingerprint: cert.fingerprint, media, sentAt: this.#opts.now() }));
      this.#timer(live, this.#opts.ringTimeoutMs, () => this.#end(live, 'no-answer', { type: 'cancel', callId: live.callId }));
      await local;
    } catch (e) {
      this.#fail(live, e, live.cert ? { type: 'cancel', callId: live.callId } : undefined);
    }
  }

  async accept(): Promise<void> {
    const live = this.#live;
    if (!live || live.ended || this.phase !== 'incoming' || !live.offer) return;
    this.phase = 'connecting';
    live.ring?.stop();
    this.#clearTimers(live);
    // The answer goes out as soon as the certificate exists; the camera and microphone start in
    // parallel and are only needed when the caller's PeerJS call arrives (saves a getUserMedia on
    // the critical path). If they fail, the caller is told with a hangup.
    const local = this.#startMedia(live);
    try {
      const [cert, ice] = await Promise.all([this.#resources.certificate(), this.#resources.iceServers(this.#opts.relayOnly())]);
      live.cert = cert;
      if (!this.#current(live)) return;
      const peer = await this.#openPeer(live, cert, ice);
      live.peer = peer;
      if (!this.#current(live)) return;
      peer.on('call', (conn) => this.#onIncomingConnection(live, conn));
      await this.#port.send(live.chat, encodeCallSignal({ type: 'answer', callId: live.callId, peerId: live.ourPeerId, dtlsFingerprint: cert.fingerprint }));
      this.#timer(live, this.#opts.connectTimeoutMs, () => this.#end(live, 'failed', { type: 'hangup', callId: live.callId, reason: 'ended' }));
      await local;
    } catch (e) {
      this.#fail(live, e, { type: 'hangup', callId: live.callId, reason: 'ended' });
    }
  }

  decline(): void {
    const live = this.#live;
    if (!live || live.ended || this.phase !== 'incoming') return;
    this.#end(live, 'declined', { type: 'decline', callId: live.callId, reason: 'declined' });
  }

  hangup(): void {
    const live = this.#live;
    if (!live || live.ended) return;
    if (this.phase === 'incoming') return this.decline();
    if (this.phase === 'outgoing') return this.#end(live, 'cancelled', { type: 'cancel', callId: live.callId });
    this.#end(live, 'hangup', { type: 'hangup', callId: live.callId, reason: 'ended' });
  }

  toggleMute(): void {
    this.muted = !this.muted;
    for (const t of this.#live?.local?.getAudioTracks() ?? []) t.enabled = !this.muted;
  }

  toggleCamera(): void {
    this.cameraOff = !this.cameraOff;
    for (const t of this.#live?.local?.getVideoTracks() ?? []) t.enabled = !this.cameraOff;
    if (this.#live?.screen) this.#live.screen.enabled = !this.cameraOff;
  }

  async toggleScreenShare(): Promise<void> {
    const live = this.#live;
    const sender = live?.conn?.peerConnection?.getSenders().find((s) => s.track?.kind === 'video');
    if (!live || !sender) return;
    if (live.screen) return this.#stopSharing(live, sender);
    try {
      const track = await getScreenTrack();
      if (!track || !this.#current(live)) return track?.stop();
      live.screen = track;
      track.onended = () => void this.#stopSharing(live, sender);
      await sender.replaceTrack(track);
      this.sharing = true;
    } catch (e) {
      this.problem = e instanceof MediaProblem ? e.message : 'The screen could not be shared.';
    }
  }

  /** Leaves the "call ended" screen. */
  dismiss(): void {
    if (this.phase !== 'ended') return;
    this.#reset();
  }

  destroy(): void {
    if (this.#live && !this.#live.ended) this.hangup();
    this.#off();
  }

  // ---- signals from the ratchet ----

  #onSignal(chat: string, bytes: Uint8Array): void {
    let s: CallSignal;
    try {
      s = decodeCallSignal(bytes);
    } catch {
      return; // a newer or broken client: nothing to do
    }
    const live = this.#live && !this.#live.ended && this.#live.chat === chat && this.#live.callId === s.callId ? this.#live : undefined;
    switch (s.type) {
      case 'offer':
        return this.#onOffer(chat, s);
      case 'answer':
        if (live && live.direction === 'out' && this.phase === 'outgoing') void this.#dial(live, s);
        return;
      case 'decline':
        if (live && live.direction === 'out' && this.phase === 'outgoing') this.#end(live, s.reason === 'busy' ? 'busy' : 'declined');
        return;
      case 'hangup':
        if (live) this.#end(live, s.reason === 'unverified' ? 'unverified' : 'remote-hangup');
        return;
      case 'cancel':
        if (live && live.direction === 'in') this.#end(live, 'missed');
        return;
    }
  }

  #onOffer(chat: string, offer: CallOffer): void {
    const now = this.#opts.now();
    for (const [id, at] of this.#seen) if (now - at > SEEN_TTL_MS) this.#seen.delete(id);
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const verdict = admitOffer(offer, now, new Set(this.#seen.keys()));
    if (verdict !== 'ok') return; // P27: stale, future or replayed offers never ring
    this.#seen.set(offer.callId, now);
    if (this.busy) {
      void this.#port.send(chat, encodeCallSignal({ type: 'decline', callId: offer.callId, reason: 'busy' })).catch(() => undefined);
      void this.#port
        .record(chat, { callId: offer.callId, direction: 'in', media: offer.media, outcome: 'busy', durationMs: 0, at: now })
        .catch(() => undefined);
      return;
    }
    const live = this.#begin(chat, offer.media, 'in', offer.callId);
    live.offer = offer;
    live.theirs = { peerId: offer.peerId, fingerprint: offer.dtlsFingerprint };
    this.phase = 'incoming';
    live.ring = this.#opts.ringtone();
    this.#timer(live, this.#opts.ringTimeoutMs, () => this.#end(live, 'missed'));
  }

  // ---- connecting ----

  /** Caller: the callee accepted; call its fresh peer id and check the answer before applying it. */
  async #dial(live: Live, answer: CallAnswer): Promise<void> {
    live.theirs = { peerId: answer.peerId, fingerprint: answer.dtlsFingerprint };
    this.phase = 'connecting';
    this.#clearTimers(live);
    this.#timer(live, this.#opts.connectTimeoutMs, () => this.#end(live, 'failed', { type: 'hangup', callId: live.callId, reason: 'ended' }));
    const local = await live.localReady?.catch(() => undefined); // start() reports a failure
    if (!local || !this.#current(live)) return;
    const conn = live.peer!.call(answer.peerId, local);
    live.conn = conn;
    guardAnswer(conn, answer.dtlsFingerprint, () => this.#unverified(live)); // P27, before PeerJS applies it
    this.#watch(live, conn);
  }

  /** Callee: a PeerJS call arrived at our fresh id; only the caller's id and certificate may connect. */
  #onIncomingConnection(live: Live, conn: MediaConnection): void {
    if (!this.#current(live) || live.conn) return conn.close();
    if (!live.theirs || !incomingCallVerified(conn, live.theirs)) {
      conn.close();
      return this.#unverified(live);
    }
    live.conn = conn;
    void live.localReady?.then(
      (stream) => {
        if (!this.#current(live)) return;
        conn.answer(stream);
        this.#watch(live, conn);
      },
      () => undefined // accept() reports the media problem
    );
  }

  #watch(live: Live, conn: MediaConnection): void {
    conn.on('stream', (remote) => {
      if (this.#current(live)) this.remoteStream = remote;
    });
    conn.on('close', () => {
      if (this.#current(live)) this.#end(live, 'remote-hangup');
    });
    conn.on('error', () => undefined);
    const pc = conn.peerConnection;
    let drop: ReturnType<typeof setTimeout> | undefined;
    pc.addEventListener('iceconnectionstatechange', () => {
      const state = pc.iceConnectionState;
      if (state === 'connected' || state === 'completed') {
        if (drop) clearTimeout(drop);
        drop = undefined;
        if (!live.verified) void this.#verify(live, pc);
      } else if (state === 'disconnected') {
        // A network blip: give ICE a moment to recover on its own, else end cleanly on both sides.
        drop ??= this.#timer(live, this.#opts.dropGraceMs, () => this.#end(live, 'connection-lost', { type: 'hangup', callId: live.callId, reason: 'ended' }));
      } else if (state === 'failed') {
        this.#end(live, 'connection-lost', { type: 'hangup', callId: live.callId, reason: 'ended' });
      }
    });
  }

  /** After connect (P27): the remote SDP and the DTLS certificate must match the ratchet's. */
  async #verify(live: Live, pc: RTCPeerConnection): Promise<void> {
    const ok = await verifyConnectedPeer(pc, live.theirs!.fingerprint).catch(() => false);
    if (!this.#current(live)) return;
    if (!ok) return this.#unverified(live);
    live.verified = true;
    live.connectedAt = this.#opts.now();
    this.#clearTimers(live);
    this.connectedAt = live.connectedAt;
    this.phase = 'active';
  }

  #unverified(live: Live): void {
    this.#end(live, 'unverified', { type: 'hangup', callId: live.callId, reason: 'unverified' });
  }

  // ---- lifecycle ----

  #begin(chat: string, media: CallMedia, direction: 'in' | 'out', callId: string): Live {
    if (this.#live && !this.#live.ended) this.#end(this.#live, 'hangup');
    this.#clearTimers(this.#live);
    const live: Live = {
      callId,
      chat,
      media,
      direction,
      startedAt: this.#opts.now(),
      ended: false,
      verified: false,
      ourPeerId: this.#hexId(),
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      timers: new Set()
    };
    if (direction === 'out') this.#seen.set(callId, live.startedAt);
    this.#live = live;
    this.chat = chat;
    this.media = media;
    this.direction = direction;
    this.muted = false;
    this.cameraOff = false;
    this.sharing = false;
    this.connectedAt = undefined;
    this.durationMs = 0;
    this.endReason = undefined;
    this.problem = undefined;
    this.localStream = undefined;
    this.remoteStream = undefined;
    return live;
  }

  #end(live: Live, reason: EndReason, notify?: CallSignal): void {
    if (live.ended) return;
    live.ended = true;
    this.#clearTimers(live);
    live.ring?.stop();
    try {
      live.conn?.close();
    } catch {
      // already closed
    }
    live.peer?.destroy();
    stopStream(live.local);
    live.screen?.stop();
    if (notify) void this.#port.send(live.chat, encodeCallSignal(notify)).catch(() => undefined);
    const durationMs = live.connectedAt ? this.#opts.now() - live.connectedAt : 0;
    const entry: CallLogEntry = {
      callId: live.callId,
      direction: live.direction,
      media: live.media,
      outcome: outcomeFor(live.direction, reason, live.connectedAt !== undefined),
      durationMs,
      at: live.startedAt
    };
    void this.#port.record(live.chat, entry).catch(() => undefined);
    if (this.#live !== live) return;
    this.endReason = reason;
    this.durationMs = durationMs;
    this.phase = 'ended';
    this.localStream = undefined;
    this.remoteStream = undefined;
    this.sharing = false;
    if (this.#opts.endedLingerMs > 0) {
      setTimeout(() => {
        if (this.#live === live && this.phase === 'ended') this.#reset();
      }, this.#opts.endedLingerMs);
    }
  }

  #fail(live: Live, e: unknown, notify?: CallSignal): void {
    if (live.ended) return;
    if (e instanceof MediaProblem) this.problem = e.message;
    else if (e instanceof Error && 'code' in e && (e as { code: unknown }).code === 'UntrustedIdentity') {
      this.problem = 'The safety number with this contact changed. Verify it before calling.';
    } else if (e instanceof Error && 'code' in e && (e as { code: unknown }).code === 'Blocked') {
      this.problem = 'You blocked this contact. Unblock them to call.';
    } else if (e instanceof RelayUnavailable) this.problem = e.message;
    this.#end(live, 'failed', notify);
  }

  #reset(): void {
    this.#live = undefined;
    this.phase = 'idle';
    this.endReason = undefined;
    this.problem = undefined;
    this.chat = undefined;
  }

  #current(live: Live): boolean {
    return this.#live === live && !live.ended;
  }

  #timer(live: Live, ms: number, f: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      live.timers.delete(t);
      if (!live.ended) f();
    }, ms);
    live.timers.add(t);
    return t;
  }

  #clearTimers(live: Live | undefined): void {
    for (const t of live?.timers ?? []) clearTimeout(t);
    live?.timers.clear();
  }

  async #stopSharing(live: Live, sender: RTCRtpSender): Promise<void> {
    const screen = live.screen;
    live.screen = undefined;
    screen?.stop();
    this.sharing = false;
    const camera = live.local?.getVideoTracks()[0];
    if (camera && !live.ended) await sender.replaceTrack(camera).catch(() => undefined);
  }

  #openPeer(live: Live, cert: CallCertificate, ice: IceServers): Promise<Peer> {
    return openPeer(live.ourPeerId, cert.certificate, ice, this.#opts.relayOnly(), this.#opts.signalling ?? signallingFromLocation()).then((peer) => {
      peer.on('error', (e) => {
        // A lost signalling socket is not fatal: the handshake may already be done, and the
        // connect timeout ends a call that never gets there. These are: the other id is gone,
        // ours is refused, or the browser cannot do WebRTC.
        if (!FATAL_PEER_ERRORS.has(e.type) || !this.#current(live) || this.phase === 'active') return;
        this.#end(live, 'failed', live.direction === 'out' && this.phase === 'outgoing' ? { type: 'cancel', callId: live.callId } : { type: 'hangup', callId: live.callId, reason: 'ended' });
      });
      return peer;
    });
  }

  /** getUserMedia for this call; the stream is stopped if the call is already over. */
  #startMedia(live: Live): Promise<MediaStream> {
    const local = getCallMedia(live.media === 'video').then((stream) => {
      live.local = stream;
      if (!this.#current(live)) stopStream(stream);
      else this.localStream = stream;
      return stream;
    });
    live.localReady = local;
    local.catch(() => undefined); // reported once, by whoever awaits it
    return local;
  }

  #hexId(): string {
    return toHex(this.#opts.rng(16));
  }
}

/**
 * The call controller on the main thread (DESIGN.md §6; SECURITY.md P27–P29): the
 * reactive state the call screen shows, the person's actions, and each call's lifecycle.
 *
 *   caller (Alice)                             callee (Bob)
 *   cert A, random peer id A, media, listens on A
 *   ── offer {callId, peerId A, fp A, media, sentAt} (inside the ratchet) ──▶  ring, 45 s -> missed
 *                                              accept: cert B, random peer id B, media, and AT ONCE
 *   ◀── answer {callId, peerId B, fp B} (inside the ratchet) ──
 *   ◀── PeerJS call from B to A (via PeerServer; held until the answer above has arrived)
 *   offer SDP must carry fp B, from peer id B
 *   PeerJS answer with media ──▶               answer SDP must carry fp A
 *   DTLS is up: both re-check the remote SDP and the DTLS certificate actually presented.
 *
 * Delegates: which signals move a call to `ringing`, the PeerJS connection and its verification
 * to `connection`, our tracks to `media-controls`, the per-call record to `live-call`.
 * Holds no key material (the ratchet is in the vault worker); talks to it through `CallPort`.
 */
import { setCallInProgress } from './in-call';
import { toHex } from '$lib/codec/bytes';
import type { Username } from '../../codec/username';
import { decodeCallSignal, encodeCallSignal, type CallAnswer, type CallMedia, type CallOffer, type CallSignal } from '$lib/wire/call';
import { CallConnection } from './connection';
import { clearTimers, endingAtLock, logEntry, newLive, releaseLive, startTimer, type CallPhase, type Live } from './live-call';
import { explainMediaError, mediaPermission, watchPermissions } from './media';
import { setCameraOff, setMuted, startLocalMedia, toggleScreenShare } from './media-controls';
import { withDefaults, type CallOptions, type CallPort, type ResolvedCallOptions } from './options';
import { endTitle, failureProblem, UNVERIFIED_DETAIL, type EndReason } from './outcome';
import type { CallCertificate } from './certificate';
import { preloadPeerJs, signallingFromLocation, type Peer } from './peer';
import { CallResources, type CallPeer, type RelayMode } from './resources';
import { makeStandIn } from './stand-in';
import { nextStep, SeenCalls } from './ringing';

export type { CallPhase } from './live-call';
export type { CallOptions, CallPort } from './options';

export class CallController {
  #phase = $state<CallPhase>('idle');
  /** Whether this tab last told the others it is in a call (tab-calls.ts). */
  #toldBusy = false;
  /** The call, phase and connection time the vault was last told to end at a lock ('' none). */
  #armed = '';

  get phase(): CallPhase {
    return this.#phase;
  }

  set phase(p: CallPhase) {
    this.#phase = p;
    this.#armForLock();
    // Placing, connecting or in a call: the account's other tabs must not ring for a new one.
    const busy = p === 'outgoing' || p === 'connecting' || p === 'active';
    setCallInProgress(busy);
    if (busy !== this.#toldBusy) {
      this.#toldBusy = busy;
      this.#opts.tabs?.setBusy(busy);
    }
  }
  username = $state<Username | undefined>();
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
  readonly #opts: ResolvedCallOptions;
  readonly #seen = new SeenCalls();
  #live: Live | undefined;
  readonly #resources: CallResources;
  readonly #link: CallConnection;
  readonly #off: () => void;

  constructor(port: CallPort, opts: CallOptions = {}) {
    this.#port = port;
    this.#opts = withDefaults(opts);
    const offSignal = port.onSignal((username, bytes, contact) => this.#onSignal(username, bytes, contact ?? false));
    const offTabs = this.#opts.tabs?.onTaken((callId) => this.#takenElsewhere(callId));
    this.#off = () => {
      offSignal();
      offTabs?.();
      this.#opts.tabs?.close();
    };
    this.#resources = new CallResources({
      fetchIce: () => port.iceServers(),
      now: this.#opts.now,
      newPeerId: () => this.#hexId(),
      signalling: () => this.#opts.signalling ?? signallingFromLocation()
    });
    this.#link = new CallConnection(
      {
        phase: () => this.phase,
        current: (live) => this.#current(live),
        end: (live, reason, notify) => this.#end(live, reason, notify),
        remote: (_live, stream) => (this.remoteStream = stream),
        verified: (live) => this.#connected(live)
      },
      this.#opts
    );
    if (typeof navigator !== 'undefined' && navigator.permissions) watchPermissions();
  }

  /** True while a call is being placed, rings, connects or runs. */
  get busy(): boolean {
    return this.phase === 'outgoing' || this.phase === 'incoming' || this.phase === 'connecting' || this.phase === 'active';
  }

  get title(): string {
    return this.endReason ? endTitle(this.endReason, this.direction, this.username ?? '') : '';
  }

  get detail(): string | undefined {
    return this.endReason === 'unverified' ? UNVERIFIED_DETAIL : this.problem;
  }

  // ---- user actions ----

  /**
   * A conversation is on screen: fetch the ICE settings (TURN credentials) now, so that pressing
   * "call" does not wait a round trip to the host for them. Cached until they expire.
   */
  warmUp(): void {
    void this.#resources.iceServers(this.#opts.relayOnly()).catch(() => undefined);
  }

  async start(username: Username, media: CallMedia): Promise<void> {
    if (this.busy) return;
    // PeerJS is fetched only once a call starts (first load stays small); it loads alongside the permission check.
    void preloadPeerJs().catch(() => undefined);
    const live = this.#begin(username, media, 'out', this.#hexId());
    this.phase = 'outgoing';
    // Asked alongside the permission check; an unanswered question counts as "not a contact".
    const contact = (this.#port.isContact?.(username) ?? Promise.resolve(false)).catch(() => false);
    try {
      // Access already granted: ring at once and start the devices right after the offer has
      // left. Otherwise ask first, so that a refusal never rings the other side.
      const permission = await mediaPermission(media === 'video');
      if (permission === 'denied') throw explainMediaError(new DOMException('denied', 'NotAllowedError'), media === 'video');
      const asked = permission === 'granted' ? undefined : this.#startMedia(live);
      if (asked) await asked;
      live.relay = this.#relayMode(await contact);
      const { id, cert, peer } = await this.#resources.peer(live.relay);
      // The call may have ended while the peer was opening; its release already ran, so the
      // new peer would stay registered with the PeerServer until the page unloads.
      if (!this.#current(live)) return peer.destroy();
      Object.assign(live, { ourPeerId: id, cert, peer });
      this.#link.adopt(live, peer);
      this.#link.listen(live, peer);
      const offered = this.#port.send(username, encodeCallSignal({ type: 'offer', callId: live.callId, peerId: live.ourPeerId, dtlsFingerprint: cert.fingerprint, media, sentAt: this.#opts.now() }));
      const local = asked ?? this.#startMedia(live);
      await offered;
      // Only while it still rings: an answer may have arrived before the send resolved.
      if (this.#current(live) && this.phase === 'outgoing') startTimer(live, this.#opts.ringTimeoutMs, () => this.#end(live, 'no-answer', { type: 'cancel', callId: live.callId }));
      await local;
    } catch (e) {
      this.#fail(live, e, live.cert ? { type: 'cancel', callId: live.callId } : undefined);
    }
  }

  async accept(): Promise<void> {
    const live = this.#live;
    if (!live || live.ended || this.phase !== 'incoming' || !live.offer || live.accepted) return;
    live.accepted = true;
    live.ring?.stop();
    clearTimers(live);
    this.#opts.tabs?.taken(live.callId);
    // The peer and the PeerJS call have been prepared while ringing (#prepare). The answer leaves
    // first, then the held PeerJS call, then the camera and microphone start and replace its
    // stand-in tracks (stand-in.ts); the screen is redrawn after, so that drawing it delays
    // neither. If the devices fail, the caller is told with a hangup.
    try {
      if (!live.ready) {
        this.phase = 'connecting';
        await (live.prepared ??= this.#prepare(live));
      }
      const { cert, peer } = live.ready!;
      if (!this.#current(live)) return;
      // The answer inside the ratchet and the PeerJS call travel at the same time; the caller
      // holds the second until the first tells it which id and certificate to expect.
      const answered = this.#port.send(live.username, encodeCallSignal({ type: 'answer', callId: live.callId, peerId: live.ourPeerId, dtlsFingerprint: cert.fingerprint }));
      const local = this.#startMedia(live);
      void this.#link.place(live, peer, live.predial ?? Promise.resolve(false));
      if (this.#current(live)) this.phase = 'connecting';
      await answered;
      // The connection may already be verified (the send resolves after the caller got it): an
      // active call has no connect timeout.
      if (!live.verified) startTimer(live, this.#opts.connectTimeoutMs, () => this.#end(live, 'failed', { type: 'hangup', callId: live.callId, reason: 'ended' }));
      await local;
    } catch (e) {
      this.#fail(live, e, { type: 'hangup', callId: live.callId, reason: 'ended' });
    }
  }

  decline(): void {
    const live = this.#live;
    if (!live || live.ended || this.phase !== 'incoming' || live.accepted) return;
    this.#opts.tabs?.taken(live.callId);
    this.#end(live, 'declined', { type: 'decline', callId: live.callId, reason: 'declined' });
  }

  hangup(): void {
    const live = this.#live;
    if (!live || live.ended) return;
    if (this.phase === 'incoming') return this.decline();
    if (this.phase === 'outgoing') return this.#end(live, 'cancelled', { type: 'cancel', callId: live.callId });
    this.#end(live, 'hangup', { type: 'hangup', callId: live.callId, reason: 'ended' });
  }

  /**
   * The vault locked under a call (P46: a locked Parley shows and holds nothing of a chat). A call
   * we placed or were in ends as a hang-up (the signal goes if the vault still takes it; the other
   * side also sees the connection close); one still ringing here just stops, answering nothing, so
   * the caller learns no more than from a ring nobody took. No peer is warmed for a next call.
   */
  endForLock(): void {
    const live = this.#live;
    if (!live || live.ended) return;
    const { reason, notify } = endingAtLock(this.phase, live.callId) ?? endingAtLock('active', live.callId)!;
    this.#end(live, reason, notify, false);
  }

  /**
   * Keeps the vault told how the call on screen would end at a lock (endingAtLock), at every phase
   * and when it ends. A lock from another tab reaches the vault before this page: the vault then
   * hangs up and logs the call itself while it still holds the keys; whatever this page sends
   * after is refused or ignored (an end for a call that is over changes nothing).
   */
  #armForLock(): void {
    const live = this.#live;
    const end = live && !live.ended ? endingAtLock(this.#phase, live.callId) : undefined;
    const key = live && end ? `${live.callId}:${this.#phase}:${live.connectedAt ?? ''}` : '';
    if (key === this.#armed || !this.#port.armLockEnding) return;
    this.#armed = key;
    const ending = live && end ? { signal: end.notify && encodeCallSignal(end.notify), entry: logEntry(live, end.reason, this.#opts.now()), connectedAt: live.connectedAt } : undefined;
    void this.#port.armLockEnding(live?.username ?? this.username!, ending).catch(() => undefined);
  }

  toggleMute(): void {
    this.muted = !this.muted;
    setMuted(this.#live, this.muted);
  }

  toggleCamera(): void {
    this.cameraOff = !this.cameraOff;
    setCameraOff(this.#live, this.cameraOff);
  }

  toggleScreenShare(): Promise<void> {
    const live = this.#live;
    return toggleScreenShare(live, this, () => live !== undefined && this.#current(live));
  }

  /** Leaves the "call ended" screen. */
  dismiss(): void {
    if (this.phase !== 'ended') return;
    this.#reset();
  }

  destroy(): void {
    if (this.#live && !this.#live.ended) this.hangup();
    this.#off();
    this.#resources.dispose();
  }

  // ---- signals from the ratchet ----

  #onSignal(username: Username, bytes: Uint8Array, contact: boolean): void {
    let s: CallSignal;
    try {
      s = decodeCallSignal(bytes);
    } catch {
      return; // a newer or broken client: nothing to do
    }
    const step = nextStep(s, username, this.#live, this.phase);
    if (step.type === 'ring') this.#onOffer(username, step.offer, contact);
    else if (step.type === 'dial') this.#onAnswer(step.live, step.answer);
    else if (step.type === 'end') this.#end(step.live, step.reason);
  }

  #onOffer(username: Username, offer: CallOffer, contact: boolean): void {
    const now = this.#opts.now();
    const verdict = this.#seen.admit(offer, now);
    // P14: a call that arrived too late to ring (held back, or sent while we were away) still
    // leaves a missed-call entry; replayed and future offers leave none. It is dated when it
    // arrived, not by the caller's clock, so no sender can slot an entry into the past (P36).
    if (verdict === 'stale') {
      void this.#port.record(username, { callId: offer.callId, direction: 'in', media: offer.media, outcome: 'missed', durationMs: 0, at: now }).catch(() => undefined);
    }
    if (verdict !== 'ok') return; // P27: stale, future or replayed offers never ring
    // In a call in another tab: that tab answers "busy" (tab-calls.ts); this one stays quiet.
    if (!this.busy && this.#opts.tabs?.busyElsewhere()) return;
    if (this.busy) {
      void this.#port.send(username, encodeCallSignal({ type: 'decline', callId: offer.callId, reason: 'busy' })).catch(() => undefined);
      void this.#port
        .record(username, { callId: offer.callId, direction: 'in', media: offer.media, outcome: 'busy', durationMs: 0, at: now })
        .catch(() => undefined);
      return;
    }
    const live = this.#begin(username, offer.media, 'in', offer.callId);
    live.relay = this.#relayMode(contact);
    live.offer = offer;
    live.theirs = { peerId: offer.peerId, fingerprint: offer.dtlsFingerprint };
    live.prepared = this.#prepare(live);
    live.prepared.catch(() => undefined); // accept() reports it
    this.phase = 'incoming';
    // Ringing: fetch PeerJS while the user decides.
    void preloadPeerJs().catch(() => undefined);
    startTimer(live, this.#opts.ringTimeoutMs, () => this.#end(live, 'missed'));
    // The ringtone's audio context takes a few milliseconds to start: the incoming-call screen
    // (and its Accept button) is drawn first.
    setTimeout(() => {
      if (this.#current(live) && this.phase === 'incoming') live.ring = this.#opts.ringtone();
    }, 0);
  }

  /**
   * Callee, while ringing: the call's certificate and a PeerJS peer at our fresh random id, so that
   * accepting does not wait for the PeerServer. The id is unlinkable to us and nothing is sent to
   * the caller; the camera and microphone stay off until the person accepts. The PeerJS call to
   * the caller is built too, its signalling held back until then (connection.ts prepareDial).
   */
  #prepare(live: Live): Promise<{ cert: CallCertificate; peer: Peer }> {
    live.standIn ??= makeStandIn(live.media === 'video');
    const ready = this.#resources.takeReady(live.relay);
    if (ready) return Promise.resolve(this.#takePeer(live, ready));
    return this.#resources.peer(live.relay).then((p) => {
      if (this.#current(live)) return this.#takePeer(live, p);
      p.peer.destroy();
      throw new Error('the call has ended');
    });
  }

  #takePeer(live: Live, { id, cert, peer }: CallPeer): { cert: CallCertificate; peer: Peer } {
    Object.assign(live, { ourPeerId: id, cert, peer, ready: { cert, peer } });
    this.#link.adopt(live, peer);
    live.predial = this.#link.prepareDial(live, peer);
    return { cert, peer };
  }

  /** Caller: the callee accepted; its PeerJS call may be answered now, and the connect timeout runs. */
  #onAnswer(live: Live, answer: CallAnswer): void {
    live.theirs = { peerId: answer.peerId, fingerprint: answer.dtlsFingerprint };
    this.#link.answered(live); // before the redraw below, which would otherwise go first
    if (!this.#current(live)) return; // a held PeerJS call failed the check: already ended
    this.phase = 'connecting';
    clearTimers(live);
    startTimer(live, this.#opts.connectTimeoutMs, () => this.#end(live, 'failed', { type: 'hangup', callId: live.callId, reason: 'ended' }));
  }

  /** Another tab of this account accepted or declined the call ringing here: stop, quietly. */
  #takenElsewhere(callId: string): void {
    const live = this.#live;
    if (!live || live.ended || live.direction !== 'in' || this.phase !== 'incoming' || live.callId !== callId) return;
    live.ended = true;
    releaseLive(live);
    this.#reset();
  }

  // ---- lifecycle ----

  /**
   * P29: the "relay calls" switch forces relay-only. P42: a call with someone we have not written
   * to or accepted is relay-only whenever the host offers TURN, so answering (or calling) a
   * stranger never hands them our address; without TURN it connects as any call does.
   */
  #relayMode(contact: boolean): RelayMode {
    return this.#opts.relayOnly() || (contact ? false : 'if-turn');
  }

  #begin(username: Username, media: CallMedia, direction: 'in' | 'out', callId: string): Live {
    if (this.#live && !this.#live.ended) this.#end(this.#live, 'hangup');
    clearTimers(this.#live);
    const live = newLive(callId, username, media, direction, this.#opts.now());
    if (direction === 'out') this.#seen.remember(callId, live.startedAt);
    this.#live = live;
    this.username = username;
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

  /** The connection was verified (P27): the call is active and its duration starts now. */
  #connected(live: Live): void {
    live.connectedAt = this.#opts.now();
    clearTimers(live);
    this.connectedAt = live.connectedAt;
    this.phase = 'active';
  }

  #end(live: Live, reason: EndReason, notify?: CallSignal, warm = true): void {
    if (live.ended) return;
    live.ended = true;
    // Disarmed before the signal below leaves, so a lock now cannot send a second one.
    if (this.#live === live) this.#armForLock();
    releaseLive(live);
    // People often call again right after a call (a retry, a call back): keep a peer ready.
    if (warm) this.#resources.warmPeer(this.#opts.relayOnly());
    if (notify) void this.#port.send(live.username, encodeCallSignal(notify)).catch(() => undefined);
    const entry = logEntry(live, reason, this.#opts.now());
    void this.#port.record(live.username, entry).catch(() => undefined);
    if (this.#live !== live) return;
    this.endReason = reason;
    this.durationMs = entry.durationMs;
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
    const problem = failureProblem(e);
    if (problem !== undefined) this.problem = problem;
    this.#end(live, 'failed', notify);
  }

  #reset(): void {
    this.#live = undefined;
    this.phase = 'idle';
    this.endReason = undefined;
    this.problem = undefined;
    this.username = undefined;
  }

  #current(live: Live): boolean {
    return this.#live === live && !live.ended;
  }

  #startMedia(live: Live): Promise<MediaStream> {
    return startLocalMedia(live, this, () => this.#current(live));
  }

  #hexId(): string {
    return toHex(this.#opts.rng(16));
  }
}

/**
 * What a call needs before it can start, kept warm between calls:
 * - ICE servers from the host (cached until a minute before the TURN credentials expire), with the
 *   relay rules (`RelayMode`): relay-only (P29) without any TURN server is refused, never silently
 *   direct; a call with someone not in our contacts (P42) is relay-only whenever TURN is offered;
 * - the next call's DTLS certificate, generated ahead of time;
 * - after a call, the next call's PeerJS peer: a fresh random id with its own fresh certificate,
 *   already registered with the PeerServer, so the next call does not wait for that socket. It is
 *   closed after PEER_IDLE_MS unused, and not used if the ICE configuration changed meanwhile.
 * Each certificate, id and peer is handed out once, so every call still has its own (DESIGN.md §6).
 */
import type { IceServers } from '../../vault/views';
import { generateCallCertificate, type CallCertificate } from './certificate';
import { openPeer, type Peer, type SignallingServer } from './peer';

/** How long an unused warm peer stays registered with the PeerServer. */
export const PEER_IDLE_MS = 5 * 60_000;

/** One call's PeerJS peer: its random id and the certificate it carries. */
export interface CallPeer {
  id: string;
  cert: CallCertificate;
  peer: Peer;
}

interface WarmPeer {
  value: Promise<{ callPeer: CallPeer; key: string }>;
  /** The same, once it has resolved (so that `takeReady` needs no await). */
  ready?: { callPeer: CallPeer; key: string };
  idle: ReturnType<typeof setTimeout>;
}

/**
 * How a call's ICE may connect: `true` relay-only (the user's "relay calls" switch, P29; refused
 * without TURN); `'if-turn'` relay-only when the host offers TURN, else as ICE finds (a call with
 * someone we have not written to or accepted, P42: answering must not reveal our address);
 * `false` any candidate.
 */
export type RelayMode = boolean | 'if-turn';

function hasTurn(ice: IceServers): boolean {
  return ice.iceServers.some((s) => [s.urls].flat().some((u) => /^turns?:/.test(u)));
}

/** The relay-only flag `mode` comes to with these ICE servers. */
function relayWith(ice: IceServers, mode: RelayMode): boolean {
  return mode === 'if-turn' ? hasTurn(ice) : mode;
}

function iceKey(ice: IceServers, relayOnly: boolean): string {
  return JSON.stringify([ice.iceServers, relayOnly]);
}

function usable(peer: Peer): boolean {
  return !peer.destroyed && !peer.disconnected;
}

export const NO_TURN_FOR_RELAY = 'Relay-only calls are on, but this host offers no TURN relay. Turn the setting off or ask the host to configure TURN.';

export class RelayUnavailable extends Error {
  constructor() {
    super(NO_TURN_FOR_RELAY);
    this.name = 'RelayUnavailable';
  }
}

/** Where CallResources gets what it keeps warm (the browser's, or fakes in unit tests). */
export interface ResourceDeps {
  fetchIce: () => Promise<IceServers>;
  now: () => number;
  newPeerId: () => string;
  signalling: () => SignallingServer;
  /** Default: RTCPeerConnection.generateCertificate, where the browser has WebRTC. */
  makeCertificate?: () => Promise<CallCertificate>;
  /** Default: a PeerJS peer at the host's PeerServer. */
  openPeer?: typeof openPeer;
}

export class CallResources {
  #ice: { value: IceServers; until: number } | undefined;
  #spare: Promise<CallCertificate> | undefined;
  #warm: WarmPeer | undefined;
  readonly #deps: Required<ResourceDeps>;
  readonly #webrtc: boolean;

  constructor(deps: ResourceDeps) {
    this.#webrtc = deps.makeCertificate !== undefined || typeof RTCPeerConnection !== 'undefined';
    this.#deps = { makeCertificate: generateCallCertificate, openPeer, ...deps };
    this.#prepare();
  }

  /** The call's peer: the warm one if it is still open and fits today's ICE settings, else a new one. */
  async peer(mode: RelayMode): Promise<CallPeer> {
    const ice = await this.iceServers(mode);
    const relayOnly = relayWith(ice, mode);
    const key = iceKey(ice, relayOnly);
    const warm = this.#takeWarm();
    const got = await warm?.catch(() => undefined);
    if (got && got.key === key && usable(got.callPeer.peer)) return got.callPeer;
    got?.callPeer.peer.destroy();
    return this.#open(ice, relayOnly);
  }

  /**
   * The warm peer, synchronously, if it is open and fits the cached ICE settings; else undefined
   * (then `peer()`). Lets an incoming call start building its PeerJS call in the same task.
   */
  takeReady(mode: RelayMode): CallPeer | undefined {
    const ready = this.#warm?.ready;
    const ice = this.#ice;
    if (!ready || !ice || ice.until <= this.#deps.now() || !ready.callPeer.peer.open || !usable(ready.callPeer.peer)) return undefined;
    if (ready.key !== iceKey(ice.value, relayWith(ice.value, mode))) return undefined;
    this.#takeWarm();
    return ready.callPeer;
  }

  /** Opens the next call's peer now (call it when a call ends); no-op if one is warm already. */
  warmPeer(mode: RelayMode): void {
    if (this.#warm || !this.#webrtc) return;
    const value = this.iceServers(mode).then(async (ice) => {
      const relayOnly = relayWith(ice, mode);
      return { callPeer: await this.#open(ice, relayOnly), key: iceKey(ice, relayOnly) };
    });
    const idle = setTimeout(() => void this.#takeWarm()?.then((w) => w.callPeer.peer.destroy(), () => undefined), PEER_IDLE_MS);
    const warm: WarmPeer = { value, idle };
    this.#warm = warm;
    value.then(
      (w) => {
        warm.ready = w;
        w.callPeer.peer.on('error', () => undefined); // unusable now; `peer()` opens a new one
      },
      () => {
        if (this.#warm?.value === value) this.#takeWarm();
      }
    );
  }

  /** Closes the warm peer (the app is going away). */
  dispose(): void {
    void this.#takeWarm()?.then((w) => w.callPeer.peer.destroy(), () => undefined);
  }

  #takeWarm(): WarmPeer['value'] | undefined {
    const warm = this.#warm;
    this.#warm = undefined;
    if (warm) clearTimeout(warm.idle);
    return warm?.value;
  }

  async #open(ice: IceServers, relayOnly: boolean): Promise<CallPeer> {
    const cert = await this.certificate();
    const id = this.#deps.newPeerId();
    return { id, cert, peer: await this.#deps.openPeer(id, cert.certificate, ice, relayOnly, this.#deps.signalling()) };
  }

  async iceServers(mode: RelayMode): Promise<IceServers> {
    const now = this.#deps.now();
    let ice = this.#ice && this.#ice.until > now ? this.#ice.value : undefined;
    if (!ice) {
      // A failed fetch is not remembered: this call goes without STUN/TURN (and relay-only is
      // refused below), but the next one asks the host again instead of waiting out the cache.
      const fetched = await this.#deps.fetchIce().catch(() => undefined);
      if (fetched) this.#ice = { value: fetched, until: fetched.expiresAt ? fetched.expiresAt - 60_000 : now + 10 * 60_000 };
      ice = fetched ?? { iceServers: [], expiresAt: null };
    }
    if (mode === true && !hasTurn(ice)) throw new RelayUnavailable();
    return ice;
  }

  /** A fresh certificate for one call (the pre-made one if any); starts making the next. */
  certificate(): Promise<CallCertificate> {
    const cert = this.#spare ?? this.#deps.makeCertificate();
    this.#spare = undefined;
    void cert.then(
      () => this.#prepare(),
      () => undefined
    );
    return cert;
  }

  #prepare(): void {
    if (this.#spare || !this.#webrtc) return;
    const next = this.#deps.makeCertificate();
    next.catch(() => (this.#spare = undefined)); // made again on demand
    this.#spare = next;
  }
}

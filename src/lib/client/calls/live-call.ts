/**
 * One call's record on the main thread (DESIGN.md §6): its ids and direction, the PeerJS objects,
 * its media tracks, its ringtone and the timers that belong to it — all released when it ends —
 * plus the call-log entry it leaves behind. Plain data and helpers: knows nothing of Svelte
 * state, the ratchet, or how a connection is verified.
 */
import type { CallMedia, CallOffer, CallSignal } from '$lib/wire/call';
import type { Username } from '../../codec/username';
import type { CallLogEntry } from '../../vault/views';
import type { CallCertificate } from './certificate';
import { stopStream } from './media';
import { outcomeFor, type EndReason } from './outcome';
import type { MediaConnection, Peer } from './peer';
import type { RelayMode } from './resources';
import type { Ringtone } from './ringtone';
import type { HeldSignalling } from './held-signalling';
import type { StandIn } from './stand-in';

export type CallPhase = 'idle' | 'outgoing' | 'incoming' | 'connecting' | 'active' | 'ended';

export interface Live {
  callId: string;
  username: Username;
  media: CallMedia;
  direction: 'in' | 'out';
  startedAt: number;
  connectedAt?: number;
  ended: boolean;
  verified: boolean;
  /** How this call's ICE may connect (resources.ts RelayMode: the switch, or not a contact). */
  relay: RelayMode;
  /** Our PeerJS id for this call ('' until its peer is taken from CallResources). */
  ourPeerId: string;
  cert?: CallCertificate;
  theirs?: { peerId: string; fingerprint: Uint8Array };
  offer?: CallOffer;
  peer?: Peer;
  /** Callee: tracks that shape the PeerJS offer while the camera starts (stand-in.ts). */
  standIn?: StandIn;
  /** Callee: its PeerJS call, built while ringing (true once built), and its held signalling. */
  predial?: Promise<boolean>;
  heldSignals?: HeldSignalling;
  /** Callee: certificate and peer, made while ringing (controller #prepare), and once made. */
  prepared?: Promise<{ cert: CallCertificate; peer: Peer }>;
  ready?: { cert: CallCertificate; peer: Peer };
  /** Callee: the person accepted (the screen may still be redrawing). */
  accepted?: boolean;
  conn?: MediaConnection;
  /** Caller: PeerJS calls that arrived before the answer inside the ratchet (connection.ts). */
  held?: MediaConnection[];
  local?: MediaStream;
  /** Resolves with our media once getUserMedia is done (started in parallel with signalling). */
  localReady?: Promise<MediaStream>;
  screen?: MediaStreamTrack;
  ring?: Ringtone;
  timers: Set<ReturnType<typeof setTimeout>>;
}

export function newLive(callId: string, username: Username, media: CallMedia, direction: 'in' | 'out', startedAt: number, relay: RelayMode = false): Live {
  return { callId, username, media, direction, startedAt, relay, ended: false, verified: false, ourPeerId: '', timers: new Set() };
}

/** Runs `f` after `ms` unless the call has ended by then; the timer dies with the call. */
export function startTimer(live: Live, ms: number, f: () => void): ReturnType<typeof setTimeout> {
  const t = setTimeout(() => {
    live.timers.delete(t);
    if (!live.ended) f();
  }, ms);
  live.timers.add(t);
  return t;
}

export function clearTimers(live: Live | undefined): void {
  for (const t of live?.timers ?? []) clearTimeout(t);
  live?.timers.clear();
}

/** Stops everything the call holds: timers, ringtone, PeerJS connection and peer, our tracks. */
export function releaseLive(live: Live): void {
  clearTimers(live);
  live.ring?.stop();
  for (const conn of [live.conn, ...(live.held ?? [])]) {
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
  live.held = undefined;
  live.heldSignals?.drop();
  live.heldSignals = undefined;
  live.standIn?.release();
  live.standIn = undefined;
  live.peer?.destroy();
  stopStream(live.local);
  live.screen?.stop();
}

/** The entry an ended call leaves in the conversation; connected time counts as its duration. */
export function logEntry(live: Live, reason: EndReason, now: number): CallLogEntry {
  return {
    callId: live.callId,
    direction: live.direction,
    media: live.media,
    outcome: outcomeFor(live.direction, reason, live.connectedAt !== undefined),
    durationMs: live.connectedAt ? now - live.connectedAt : 0,
    at: live.startedAt
  };
}

/**
 * How a call in `phase` ends when the vault locks under it (README "Calls and the lock"): one we
 * place stops ringing with a cancel, one we are in hangs up, one ringing here just stops and is
 * missed, answering nothing (a decline would tell the caller someone is there). Undefined when
 * there is no call to end.
 */
export function endingAtLock(phase: CallPhase, callId: string): { reason: EndReason; notify?: CallSignal } | undefined {
  switch (phase) {
    case 'incoming':
      return { reason: 'missed' };
    case 'outgoing':
      return { reason: 'cancelled', notify: { type: 'cancel', callId } };
    case 'connecting':
    case 'active':
      return { reason: 'hangup', notify: { type: 'hangup', callId, reason: 'ended' } };
    default:
      return undefined;
  }
}

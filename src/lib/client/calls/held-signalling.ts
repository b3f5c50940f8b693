/**
 * Holding back a peer's outgoing PeerJS signalling (DESIGN.md §6; kept fast for bench:call).
 *
 * While an incoming call rings, the callee already builds its PeerJS call to the caller (offer
 * SDP, ICE candidates), but nothing of it may leave before the person accepts: every message to
 * `dst` is kept here and sent, in order, by `release()` — or thrown away by `drop()`.
 * Wraps the instance's `socket.send` (PeerJS 1.5 exposes `peer.socket`); other destinations pass.
 */
import type { Peer } from './peer';

export interface HeldSignalling {
  /** Sends everything held, in order, and stops holding. */
  release(): void;
  /** Forgets everything held and stops holding. */
  drop(): void;
}

interface SocketLike {
  send(message: { dst?: string }): void;
}

export function holdSignalling(peer: Peer, dst: string): HeldSignalling {
  const socket = (peer as unknown as { socket: SocketLike }).socket;
  const send = socket.send.bind(socket);
  let held: { dst?: string }[] | undefined = [];
  socket.send = (message) => {
    if (held && message?.dst === dst) held.push(message);
    else send(message);
  };
  const stop = () => {
    const out = held ?? [];
    held = undefined;
    socket.send = send;
    return out;
  };
  return {
    release: () => stop().forEach(send),
    drop: () => void stop()
  };
}

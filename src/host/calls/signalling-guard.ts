/**
 * Memory per signalling connection (SECURITY.md P40). The PeerJS server relays whatever a peer
 * sends to any id, and holds messages for ids that are not connected for a few seconds; its
 * sockets need no account. Unguarded, one anonymous connection could grow the host's memory
 * without bound by flooding frames, or by never reading what is relayed to it. Per socket:
 *
 * - inbound: at most `maxMessages` frames and `maxBytes` bytes per `windowMs`; past either the
 *   socket is dropped at once, before the frame is relayed. A call needs a few dozen small frames
 *   (offer, answer, ICE candidates, a renegotiation or two).
 * - outbound: a socket whose unsent queue would pass `maxBufferedBytes` is dropped at once (its
 *   reader stopped reading); the PeerJS server then forgets the peer as for any closed socket.
 *
 * Knows nothing of PeerJS messages or calls.
 */
import type { WebSocket } from 'ws';

export interface SignallingBudget {
  windowMs: number;
  maxMessages: number;
  maxBytes: number;
  maxBufferedBytes: number;
}

export const DEFAULT_SIGNALLING_BUDGET: SignallingBudget = {
  windowMs: 10_000,
  maxMessages: 200,
  maxBytes: 512 * 1024,
  maxBufferedBytes: 1024 * 1024
};

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((n: number, d: unknown) => n + sizeOf(d), 0);
  return 0;
}

/** Guards `ws`; call before the PeerJS server sees the socket. */
export function guardSignallingSocket(ws: WebSocket, budget: SignallingBudget, clock: () => number = Date.now): void {
  let windowStart = clock();
  let messages = 0;
  let bytes = 0;
  let dropped = false;
  const drop = (): void => {
    if (dropped) return;
    dropped = true;
    ws.terminate();
  };
  /** Counts a frame; false once the socket is over its budget (it is then dropped). */
  const admit = (data: unknown): boolean => {
    if (dropped) return false;
    const now = clock();
    if (now - windowStart >= budget.windowMs) {
      windowStart = now;
      messages = 0;
      bytes = 0;
    }
    messages += 1;
    bytes += sizeOf(data);
    if (messages <= budget.maxMessages && bytes <= budget.maxBytes) return true;
    drop();
    return false;
  };
  // Frames reach every listener (the PeerJS server's too) through emit: one over budget reaches none.
  const emit = ws.emit.bind(ws) as (event: string | symbol, ...args: unknown[]) => boolean;
  ws.emit = ((event: string | symbol, ...args: unknown[]) => (event === 'message' && !admit(args[0]) ? false : emit(event, ...args))) as WebSocket['emit'];
  const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
  ws.send = ((data: unknown, ...rest: unknown[]) => {
    if (dropped) return;
    if (ws.bufferedAmount + sizeOf(data) > budget.maxBufferedBytes) return drop();
    send(data, ...rest);
  }) as WebSocket['send'];
}

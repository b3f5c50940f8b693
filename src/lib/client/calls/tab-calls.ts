/**
 * One account open in several tabs (issue 4): every tab rings for an incoming call, as Signal
 * Desktop and WhatsApp Web ring on every device. The first tab to accept or decline takes the
 * call; the others stop ringing at once and write no call-log entry (the taking tab writes it).
 * A BroadcastChannel per account, same origin only; it carries call ids, never keys or SDP.
 * Knows nothing of PeerJS, media or the ratchet.
 */

export interface TabCalls {
  /** This tab accepted or declined `callId`. */
  taken(callId: string): void;
  /** Another tab accepted or declined a call; returns the unsubscribe function. */
  onTaken(listener: (callId: string) => void): () => void;
  close(): void;
}

interface Message {
  type: 'taken';
  callId: string;
}

function isMessage(m: unknown): m is Message {
  const o = m as Partial<Message> | null;
  return typeof o === 'object' && o !== null && o.type === 'taken' && typeof o.callId === 'string';
}

/** Undefined where BroadcastChannel does not exist (then each tab decides alone). */
export function tabCalls(username: string): TabCalls | undefined {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  const channel = new BroadcastChannel(`parley-calls:${username}`);
  const listeners = new Set<(callId: string) => void>();
  channel.onmessage = (ev: MessageEvent<unknown>) => {
    if (isMessage(ev.data)) for (const l of listeners) l(ev.data.callId);
  };
  return {
    taken: (callId) => channel.postMessage({ type: 'taken', callId } satisfies Message),
    onTaken(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => channel.close()
  };
}

/**
 * One account open in several tabs (DESIGN.md §6): every tab rings for an incoming call, as Signal
 * Desktop and WhatsApp Web ring on every device. The first tab to accept or decline takes the
 * call; the others stop ringing at once and write no call-log entry (the taking tab writes it).
 * A tab in a call says so, and the others then stay quiet for new calls: the busy tab alone
 * answers "busy". Its word lapses after BUSY_TTL_MS unless repeated, so a tab that closed
 * mid-call cannot leave the account "busy" for long.
 * A BroadcastChannel per account, same origin only; it carries call ids, never keys or SDP.
 * Knows nothing of PeerJS, media or the ratchet.
 */

/** How long a tab's "I am in a call" holds unless repeated (it is repeated every third of it). */
export const BUSY_TTL_MS = 15_000;

export interface TabCalls {
  /** This tab accepted or declined `callId`. */
  taken(callId: string): void;
  /** Another tab accepted or declined a call; returns the unsubscribe function. */
  onTaken(listener: (callId: string) => void): () => void;
  /** This tab is (true) or is no longer (false) placing, ringing into or running a call. */
  setBusy(busy: boolean): void;
  /** Another tab of this account is in a call right now. */
  busyElsewhere(): boolean;
  close(): void;
}

type Message = { type: 'taken'; callId: string } | { type: 'busy'; tab: string; until: number } | { type: 'free'; tab: string };

const CALL_ID = /^[0-9a-f]{32}$/;
/** Tab ids are crypto.randomUUID() in the app; a bound keeps a hostile sender from growing the busy map. */
const TAB_ID = /^[A-Za-z0-9-]{1,64}$/;

function hasExactly(o: object, keys: readonly string[]): boolean {
  const got = Object.keys(o);
  return got.length === keys.length && got.every((k) => keys.includes(k));
}

/**
 * Strict: exact fields, a well-formed call id or tab id, a finite time. Any script of the origin
 * can post here (P31), so nothing else is believed.
 */
function isMessage(m: unknown): m is Message {
  const o = m as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return false;
  if (o.type === 'taken') return hasExactly(o, ['type', 'callId']) && typeof o.callId === 'string' && CALL_ID.test(o.callId);
  if (o.type === 'busy') return hasExactly(o, ['type', 'tab', 'until']) && typeof o.tab === 'string' && TAB_ID.test(o.tab) && Number.isFinite(o.until);
  return o.type === 'free' && hasExactly(o, ['type', 'tab']) && typeof o.tab === 'string' && TAB_ID.test(o.tab);
}

/** The protocol over any channel-like object (a BroadcastChannel in the app, a fake in tests). */
export function tabCallsOver(
  channel: { postMessage(m: unknown): void; onmessage: ((ev: MessageEvent<unknown>) => void) | null; close(): void },
  now: () => number = Date.now,
  tab: string = crypto.randomUUID()
): TabCalls {
  const listeners = new Set<(callId: string) => void>();
  const busyTabs = new Map<string, number>();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  channel.onmessage = (ev) => {
    const m = ev.data;
    if (!isMessage(m)) return;
    if (m.type === 'taken') for (const l of listeners) l(m.callId);
    // A tab's word holds BUSY_TTL_MS at most, whatever `until` it claims.
    else if (m.type === 'busy') busyTabs.set(m.tab, Math.min(m.until, now() + BUSY_TTL_MS));
    else busyTabs.delete(m.tab);
  };
  const announce = () => channel.postMessage({ type: 'busy', tab, until: now() + BUSY_TTL_MS } satisfies Message);
  return {
    taken: (callId) => channel.postMessage({ type: 'taken', callId } satisfies Message),
    onTaken(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setBusy(busy) {
      clearInterval(heartbeat);
      heartbeat = undefined;
      if (busy) {
        announce();
        heartbeat = setInterval(announce, BUSY_TTL_MS / 3);
      } else channel.postMessage({ type: 'free', tab } satisfies Message);
    },
    busyElsewhere() {
      const t = now();
      for (const [id, until] of busyTabs) if (until <= t) busyTabs.delete(id);
      return busyTabs.size > 0;
    },
    close() {
      clearInterval(heartbeat);
      channel.close();
    }
  };
}

/** Undefined where BroadcastChannel does not exist (then each tab decides alone). */
export function tabCalls(username: string): TabCalls | undefined {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  return tabCallsOver(new BroadcastChannel(`parley-calls:${username}`));
}

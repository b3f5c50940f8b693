/**
 * The signalling state machine of a call (DESIGN.md §6; SECURITY.md P27): which offers may ring, and
 * what each signal received inside the ratchet does to the current call.
 *
 *   offer  -> ring (only if fresh and never seen: stale, future or replayed offers never ring)
 *   answer -> dial    (caller, while "Calling…")
 *   decline-> end as busy / declined (caller, while "Calling…")
 *   hangup -> end as unverified / remote hang-up (either side)
 *   cancel -> end as missed (callee)
 *
 * A signal only acts on the current call if it comes from the same person with the same call id.
 * Pure decisions: knows nothing of PeerJS, media, the vault or Svelte state.
 */
import { admitOffer, type CallAnswer, type CallOffer, type CallSignal, type OfferVerdict } from '$lib/wire/call';
import type { Username } from '../../codec/username';
import type { CallPhase, Live } from './live-call';
import type { EndReason } from './outcome';

/** How long a call id is remembered; longer than any offer stays fresh (admitOffer). */
const SEEN_TTL_MS = 10 * 60_000;

/** Call ids already seen, ours and theirs, so that a replayed offer never rings again (P27). */
export class SeenCalls {
  readonly #seen = new Map<string, number>();

  remember(callId: string, at: number): void {
    this.#seen.set(callId, at);
  }

  /**
   * Forgets old ids, then judges an offer: a fresh one for a call id not seen yet is 'ok'. An 'ok'
   * or 'stale' offer's id is remembered, so it is answered (rung, or logged as missed) once.
   */
  admit(offer: CallOffer, now: number): OfferVerdict {
    for (const [id, at] of this.#seen) if (now - at > SEEN_TTL_MS) this.#seen.delete(id);
    const verdict = admitOffer(offer, now, new Set(this.#seen.keys()));
    if (verdict === 'ok' || verdict === 'stale') this.#seen.set(offer.callId, now);
    return verdict;
  }
}

export type SignalStep =
  | { type: 'ring'; offer: CallOffer }
  | { type: 'dial'; live: Live; answer: CallAnswer }
  | { type: 'end'; live: Live; reason: EndReason }
  | { type: 'ignore' };

/** What a signal from `username` does, given the current call (if any) and the phase. */
export function nextStep(s: CallSignal, username: Username, current: Live | undefined, phase: CallPhase): SignalStep {
  const live = current && !current.ended && current.username === username && current.callId === s.callId ? current : undefined;
  switch (s.type) {
    case 'offer':
      return { type: 'ring', offer: s };
    case 'answer':
      return live && live.direction === 'out' && phase === 'outgoing' ? { type: 'dial', live, answer: s } : { type: 'ignore' };
    case 'decline':
      return live && live.direction === 'out' && phase === 'outgoing' ? { type: 'end', live, reason: s.reason === 'busy' ? 'busy' : 'declined' } : { type: 'ignore' };
    case 'hangup':
      return live ? { type: 'end', live, reason: s.reason === 'unverified' ? 'unverified' : 'remote-hangup' } : { type: 'ignore' };
    case 'cancel':
      return live && live.direction === 'in' ? { type: 'end', live, reason: 'missed' } : { type: 'ignore' };
  }
}

/**
 * How a call ended, as words on the call screen and as the entry it leaves in the conversation.
 * Pure: no PeerJS, no DOM.
 */
import type { CallLogEntry } from '../../vault/views';
import { MediaProblem } from './media';
import { RelayUnavailable } from './resources';

export type EndReason =
  | 'hangup'
  | 'remote-hangup'
  | 'declined'
  | 'busy'
  | 'no-answer'
  | 'missed'
  | 'cancelled'
  | 'unverified'
  | 'connection-lost'
  | 'failed';

export function outcomeFor(direction: 'in' | 'out', reason: EndReason, connected: boolean): CallLogEntry['outcome'] {
  if (reason === 'unverified') return 'unverified';
  if (connected) return 'completed';
  switch (reason) {
    case 'declined':
      return 'declined';
    case 'busy':
      return 'busy';
    case 'no-answer':
    case 'missed':
      return 'missed';
    case 'cancelled':
    case 'hangup':
    case 'remote-hangup':
      return direction === 'out' ? 'cancelled' : 'missed';
    default:
      return 'failed';
  }
}

export function endTitle(reason: EndReason, direction: 'in' | 'out', name: string): string {
  switch (reason) {
    case 'unverified':
      return 'Call could not be verified';
    case 'declined':
      return direction === 'out' ? `${name} declined the call` : 'Call declined';
    case 'busy':
      return `${name} is on another call`;
    case 'no-answer':
      return 'No answer';
    case 'missed':
      return 'Missed call';
    case 'cancelled':
      return 'Call cancelled';
    case 'connection-lost':
      return 'Connection lost';
    case 'failed':
      return 'Call failed';
    default:
      return 'Call ended';
  }
}

export const UNVERIFIED_DETAIL =
  'The connection did not match the keys exchanged in your encrypted chat, so Parley hung up. Someone may be interfering with the call.';

/** A sentence for the person when a call failed for a reason they can act on; else undefined. */
export function failureProblem(e: unknown): string | undefined {
  if (e instanceof MediaProblem) return e.message;
  const code = e instanceof Error && 'code' in e ? (e as { code: unknown }).code : undefined;
  if (code === 'UntrustedIdentity') return 'The safety number with this contact changed. Verify it before calling.';
  if (code === 'Blocked') return 'You blocked this contact. Unblock them to call.';
  if (e instanceof RelayUnavailable) return e.message;
  return undefined;
}

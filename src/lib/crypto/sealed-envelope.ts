/**
 * One door for the receive path (SECURITY.md P41): a sealed envelope in a mailbox is either a
 * single-recipient v1 envelope (sealed-sender.ts), the received form of a v2 upload
 * (sealed-sender-v2.ts) or of a v3 upload (sealed-sender-v3.ts, opened with the seal keys we
 * were given: `candidates`); the first byte says which. All open to the same result after the
 * same checks. Knows nothing of any layout beyond its version byte.
 */
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import { SEALED_SENDER_VERSION, openSealedSender, type OpenInput, type OpenedSealedSender } from './sealed-sender';
import { SEALED_SENDER_V2_VERSION, SEALED_SENDER_V3_VERSION, openSealedSenderV2 } from './sealed-sender-v2';
import { openSealedSenderV3, type SealKeyCandidate } from './sealed-sender-v3';

export interface OpenEnvelopeInput extends OpenInput {
  /** The seal keys we hold (v3); none: a v3 envelope is refused. */
  candidates?: readonly SealKeyCandidate[];
}

/** `candidate`: for v3, the index of the seal key that opened it. */
export function openSealedEnvelope(input: OpenEnvelopeInput, deps: Deps): OpenedSealedSender & { candidate?: number } {
  const v = input.message[0];
  if (v === SEALED_SENDER_VERSION) return openSealedSender(input, deps);
  if (v === SEALED_SENDER_V2_VERSION) return openSealedSenderV2(input, deps);
  if (v === SEALED_SENDER_V3_VERSION) return openSealedSenderV3({ ...input, candidates: input.candidates ?? [] }, deps);
  return fail(v === undefined ? 'DecodeFailed' : 'UnsupportedVersion', `sealed envelope version ${String(v)}`);
}

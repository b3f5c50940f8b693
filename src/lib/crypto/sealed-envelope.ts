/**
 * One door for the receive path (SECURITY.md P41): a sealed envelope in a mailbox is either a
 * single-recipient v1 envelope (sealed-sender.ts) or the received form of a v2 upload
 * (sealed-sender-v2.ts); the first byte says which. Both open to the same result after the same
 * checks. Knows nothing of either layout beyond its version byte.
 */
import { fail } from '../codec/errors';
import type { Deps } from './deps';
import { SEALED_SENDER_VERSION, openSealedSender, type OpenInput, type OpenedSealedSender } from './sealed-sender';
import { SEALED_SENDER_V2_VERSION, openSealedSenderV2 } from './sealed-sender-v2';

export function openSealedEnvelope(input: OpenInput, deps: Deps): OpenedSealedSender {
  const v = input.message[0];
  if (v === SEALED_SENDER_VERSION) return openSealedSender(input, deps);
  if (v === SEALED_SENDER_V2_VERSION) return openSealedSenderV2(input, deps);
  return fail(v === undefined ? 'DecodeFailed' : 'UnsupportedVersion', `sealed envelope version ${String(v)}`);
}

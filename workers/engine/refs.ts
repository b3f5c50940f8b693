/**
 * Naming a message by its Double Ratchet header (SECURITY.md P14, P36): the sender's ratchet public
 * key and the message number n. The header travels in the clear, so the receiver can name even a
 * message it cannot decrypt, and the sender can recognise the name among its own encryptions —
 * without either side trusting the host's ids or times.
 *
 * The text form `${ratchet key hex}:${n}` is what records store. Reads headers only; knows nothing
 * of sessions, keys or storage.
 */
import { fromHex, toHex } from '../../src/lib/codec/bytes';
import { decodePreKeyMessage, decodeRatchetMessage, peekMessageType } from '../../src/lib/crypto/message';
import { decodeMessage } from '../../src/lib/crypto/ratchet/header';
import type { MessageRef } from '../../src/lib/wire/content';

export type RefKey = string;

export function refKey(ref: MessageRef): RefKey {
  return `${toHex(ref.ratchetKey)}:${ref.n}`;
}

export function refFromKey(key: RefKey): MessageRef {
  const [hex, n] = key.split(':');
  return { ratchetKey: fromHex(hex!), n: Number(n) };
}

/** The header of an envelope's (outer) ratchet message, or undefined if the envelope does not parse. */
export function envelopeRef(body: Uint8Array): MessageRef | undefined {
  try {
    const inner = peekMessageType(body) === 'prekey' ? decodePreKeyMessage(body).message : decodeRatchetMessage(body);
    const { ratchetKey, n } = decodeMessage(inner).header;
    return { ratchetKey, n };
  } catch {
    return undefined;
  }
}

/**
 * The typing notice body (content kind 0x14, wire/content.ts; DESIGN.md §4 "Encoding"), as
 * Signal's TypingMessage for a 1:1 chat:
 *
 *   action u8 (1 started, 2 stopped) || sentAt u64 (sender clock, ms)
 *
 * Ephemeral: the receiver shows it for a few seconds and stores nothing (README "Typing
 * indicators"). Inside the ratchet it pads to the same 160-byte block as a receipt or a short text,
 * so sealed (P41) the host cannot tell it from either by size. Knows nothing of sessions or IO.
 */
import { fail } from '../codec/errors';
import type { ByteReader, ByteWriter } from '../codec/bytes';

export type TypingContent = { kind: 'typing'; typing: boolean; sentAt: number };

const STARTED = 1;
const STOPPED = 2;

export function writeTyping(w: ByteWriter, c: TypingContent): ByteWriter {
  if (!Number.isSafeInteger(c.sentAt) || c.sentAt < 0) fail('InvalidArgument', `typing time ${c.sentAt} is not a u64`);
  return w.u8(c.typing ? STARTED : STOPPED).u64(c.sentAt);
}

export function readTyping(r: ByteReader): TypingContent {
  const action = r.u8();
  if (action !== STARTED && action !== STOPPED) fail('DecodeFailed', `typing action ${action}`);
  const sentAt = r.u64();
  r.end();
  return { kind: 'typing', typing: action === STARTED, sentAt };
}

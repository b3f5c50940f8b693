/**
 * Plaintext padding before ratchet encryption (DESIGN.md §4 "Encoding"): ISO/IEC 7816-4 style,
 * one 0x80 byte then zeros up to the next multiple of 160 bytes, so ciphertext sizes reveal
 * only a 160-byte bucket. Always at least one padding byte, at most 160.
 *
 * `unpad` is strict: wrong length, a non-zero byte after the marker, a missing marker or more
 * than one block of padding is InvalidMessage. It runs only on authenticated plaintext.
 */
import { fail } from './errors';

export const PADDING_BLOCK = 160;
/** Upper bound on a padded plaintext (the ratchet carries typed content, not bulk data). */
export const MAX_PADDED_LENGTH = 256 * 1024;

export function paddedLength(n: number): number {
  return Math.ceil((n + 1) / PADDING_BLOCK) * PADDING_BLOCK;
}

export function pad(plaintext: Uint8Array): Uint8Array {
  const len = paddedLength(plaintext.length);
  if (len > MAX_PADDED_LENGTH) fail('InvalidArgument', `plaintext of ${plaintext.length} bytes exceeds ${MAX_PADDED_LENGTH - 1}`);
  const out = new Uint8Array(len);
  out.set(plaintext);
  out[plaintext.length] = 0x80;
  return out;
}

export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length === 0 || padded.length % PADDING_BLOCK !== 0 || padded.length > MAX_PADDED_LENGTH) {
    fail('InvalidMessage', `padded length ${padded.length} is not a positive multiple of ${PADDING_BLOCK}`);
  }
  let i = padded.length - 1;
  // The marker must lie in the last block: more padding than one block is non-canonical.
  const floor = padded.length - PADDING_BLOCK;
  while (i > floor && padded[i] === 0) i--;
  if (padded[i] !== 0x80) fail('InvalidMessage', `bad padding ending ${padded.length - i} bytes from the end`);
  return padded.slice(0, i);
}

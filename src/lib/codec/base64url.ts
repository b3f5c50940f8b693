/**
 * Strict, canonical base64url without padding (RFC 4648 §5), for binary fields inside JSON.
 * Decoding refuses padding, foreign characters, impossible lengths and non-zero trailing bits,
 * so every byte string has exactly one accepted text form. Pure: no Buffer, no atob.
 */
import { fail } from './errors';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** The alphabet as character codes, and a decoder that turns such codes into a flat string. */
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
// Every code written is ASCII, which 'latin1' (windows-1252 in browsers) maps to itself. A string
// built by `+=` per character cost about three times as much (a rope flattened later by JSON):
// a stored group record holds thousands of these fields.
const ascii = new TextDecoder('latin1');

export function toBase64Url(bytes: Uint8Array): string {
  const n = bytes.length;
  const full = n - (n % 3);
  const out = new Uint8Array((full / 3) * 4 + (n === full ? 0 : n - full + 1));
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODES[v >> 18]!;
    out[o++] = CODES[(v >> 12) & 63]!;
    out[o++] = CODES[(v >> 6) & 63]!;
    out[o++] = CODES[v & 63]!;
  }
  if (n - full === 1) {
    const v = bytes[full]! << 16;
    out[o] = CODES[v >> 18]!;
    out[o + 1] = CODES[(v >> 12) & 63]!;
  } else if (n - full === 2) {
    const v = (bytes[full]! << 16) | (bytes[full + 1]! << 8);
    out[o] = CODES[v >> 18]!;
    out[o + 1] = CODES[(v >> 12) & 63]!;
    out[o + 2] = CODES[(v >> 6) & 63]!;
  }
  return ascii.decode(out);
}

/** The 6-bit value of the character at `i`, or a DecodeFailed naming where. */
function sextet(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const v = c < 128 ? LOOKUP[c]! : -1;
  if (v < 0) fail('DecodeFailed', `base64url: bad character at ${i}`);
  return v;
}

/** Decodes `text`; refuses anything non-canonical or longer than `maxBytes` once decoded. */
export function fromBase64Url(text: string, maxBytes: number): Uint8Array {
  if (typeof text !== 'string') fail('DecodeFailed', 'base64url: not a string');
  const rest = text.length % 4;
  if (rest === 1) fail('DecodeFailed', `base64url: impossible length ${text.length}`);
  const len = Math.floor((text.length * 3) / 4);
  if (len > maxBytes) fail('DecodeFailed', `base64url: ${len} bytes exceed ${maxBytes}`);
  const out = new Uint8Array(len);
  const full = text.length - rest;
  let o = 0;
  // Four characters to three bytes at a time.
  for (let i = 0; i < full; i += 4) {
    const v = (sextet(text, i) << 18) | (sextet(text, i + 1) << 12) | (sextet(text, i + 2) << 6) | sextet(text, i + 3);
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  // A tail of 2 or 3 characters is 1 or 2 bytes; the bits left over must be zero (canonical).
  if (rest === 2) {
    const a = sextet(text, full);
    const b = sextet(text, full + 1);
    if ((b & 0x0f) !== 0) fail('DecodeFailed', 'base64url: non-zero trailing bits');
    out[o] = (a << 2) | (b >> 4);
  } else if (rest === 3) {
    const a = sextet(text, full);
    const b = sextet(text, full + 1);
    const c = sextet(text, full + 2);
    if ((c & 0x03) !== 0) fail('DecodeFailed', 'base64url: non-zero trailing bits');
    out[o] = (a << 2) | (b >> 4);
    out[o + 1] = ((b & 0x0f) << 4) | (c >> 2);
  }
  return out;
}

/**
 * Strict, canonical base64url without padding (RFC 4648 §5), for binary fields inside JSON.
 * Decoding refuses padding, foreign characters, impossible lengths and non-zero trailing bits,
 * so every byte string has exactly one accepted text form. Pure: no Buffer, no atob.
 */
import { fail } from './errors';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** Decodes `text`; refuses anything non-canonical or longer than `maxBytes` once decoded. */
export function fromBase64Url(text: string, maxBytes: number): Uint8Array {
  if (typeof text !== 'string') fail('DecodeFailed', 'base64url: not a string');
  if (text.length % 4 === 1) fail('DecodeFailed', `base64url: impossible length ${text.length}`);
  const len = Math.floor((text.length * 3) / 4);
  if (len > maxBytes) fail('DecodeFailed', `base64url: ${len} bytes exceed ${maxBytes}`);
  const out = new Uint8Array(len);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) fail('DecodeFailed', `base64url: bad character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) fail('DecodeFailed', 'base64url: non-zero trailing bits');
  return out;
}

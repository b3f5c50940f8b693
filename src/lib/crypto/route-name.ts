/**
 * Chat routes that name nobody (SECURITY.md P46; README "At rest and on shared computers"). A
 * browser keeps every URL it visits, with the page's title, in its history files, which a copy of
 * the profile carries past the app lock. So a conversation's address holds its person's username
 * only sealed under a key kept in the vault:
 *
 *   padded = username || 0x00 ... to 32 bytes (every name seals to one size)
 *   siv    = HMAC-SHA256(kIv, padded)[0..16]                      kIv  = HKDF(key, L_iv)
 *   body   = XChaCha20(kEnc, nonce = siv || 0^8) XOR padded        kEnc = HKDF(key, L_enc)
 *   route  = base64url(siv || body)                                 64 characters
 *
 * Deterministic (synthetic IV, as RFC 5297), so one chat has one address and the chat list can
 * mark the open one; it reveals only that two visits went to the same chat. Opening recomputes the
 * IV from what it decrypted, so a route the key did not make (edited, from another vault, from
 * before the key existed) opens to nothing, never to some other name.
 * Pure: no storage, no DOM.
 */
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { concatBytes } from '../codec/bytes';
import { isProtocolError } from '../codec/errors';
import { USERNAME_MAX, canonicalUsername, type Username } from '../codec/username';
import { hkdf, hmacSha256 } from './hkdf';
import { Labels, labelBytes } from './labels';
import { wipe } from './primitives';
import { sodium } from './sodium';

export const ROUTE_KEY_LEN = 32;
const SIV_LEN = 16;
const ROUTE_BYTES = SIV_LEN + USERNAME_MAX;
/** Length of every route, in base64url characters. */
export const ROUTE_NAME_LEN = Math.ceil((ROUTE_BYTES * 4) / 3);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Seals and opens route segments under one key; `forget` wipes its subkeys. */
export interface RouteNamer {
  seal(username: Username): string;
  open(segment: string): Username | undefined;
  forget(): void;
}

export function routeNamer(key: Uint8Array): RouteNamer {
  if (key.length !== ROUTE_KEY_LEN) throw new RangeError(`route key of ${key.length} bytes`);
  const kIv = hkdf(undefined, key, labelBytes(Labels.routeNameIv), 32);
  const kEnc = hkdf(undefined, key, labelBytes(Labels.routeNameEnc), 32);
  const xor = (siv: Uint8Array, data: Uint8Array): Uint8Array => sodium().crypto_stream_xchacha20_xor(data, concatBytes(siv, new Uint8Array(8)), kEnc);
  return {
    seal(username) {
      const name = encoder.encode(username);
      if (name.length > USERNAME_MAX) throw new RangeError('username longer than a route holds');
      const padded = new Uint8Array(USERNAME_MAX);
      padded.set(name);
      const siv = hmacSha256(kIv, padded).subarray(0, SIV_LEN);
      const route = toBase64Url(concatBytes(siv, xor(siv, padded)));
      wipe(padded);
      return route;
    },
    open(segment) {
      if (segment.length !== ROUTE_NAME_LEN) return undefined;
      let bytes: Uint8Array;
      try {
        bytes = fromBase64Url(segment, ROUTE_BYTES);
      } catch (e) {
        if (isProtocolError(e)) return undefined;
        throw e;
      }
      if (bytes.length !== ROUTE_BYTES) return undefined;
      const siv = bytes.subarray(0, SIV_LEN);
      const padded = xor(siv, bytes.subarray(SIV_LEN));
      try {
        if (!sodium().memcmp(hmacSha256(kIv, padded).subarray(0, SIV_LEN), siv)) return undefined;
        const end = padded.indexOf(0);
        const name = decoder.decode(padded.subarray(0, end < 0 ? padded.length : end));
        const canonical = canonicalUsername(name);
        return typeof canonical === 'string' && canonical === name ? canonical : undefined;
      } catch {
        return undefined;
      } finally {
        wipe(padded);
      }
    },
    forget() {
      wipe(kIv, kEnc);
    }
  };
}

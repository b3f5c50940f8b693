/**
 * The profile blob API (SECURITY.md P43; README "Design: private profiles"): routes, the write
 * header and the strict codec of a profile address in a path. Blobs are opaque bytes sealed by
 * src/lib/crypto/profile.ts; the host never reads them.
 *
 *   GET    /api/v1/profiles/<address>   no account: anyone who holds the profile key found it
 *   PUT    /api/v1/profiles/<address>   body = blob; header X-Parley-Profile-Write = write token
 *   DELETE /api/v1/profiles/<address>   header X-Parley-Profile-Write = write token
 *
 * `<address>` is 32 bytes in canonical base64url (43 characters). The first PUT at an address
 * fixes SHA-256 of its write token (profileWriteVerifier); later PUTs and DELETE must present a
 * token with that verifier. No request names an account, so the host cannot tie a blob to one
 * except by timing and connection (the engine uploads on its own unauthenticated request).
 * Knows nothing of HTTP servers or storage.
 */
import { fail } from '../codec/errors';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { MAX_PROFILE_BLOB_LEN, PROFILE_ADDRESS_LEN, PROFILE_WRITE_TOKEN_LEN } from '../crypto/profile';

export const PROFILE_PATH = '/api/v1/profiles/';
/** The owner's write token, base64url (lower case: Node lowercases header names). */
export const PROFILE_WRITE_HEADER = 'x-parley-profile-write';
export { MAX_PROFILE_BLOB_LEN, PROFILE_ADDRESS_LEN, PROFILE_WRITE_TOKEN_LEN };

export function profileAddressText(address: Uint8Array): string {
  if (address.length !== PROFILE_ADDRESS_LEN) fail('InvalidArgument', `profile address: ${address.length} bytes, expected ${PROFILE_ADDRESS_LEN}`);
  return toBase64Url(address);
}

/** The address in a path segment; DecodeFailed unless exactly 32 bytes in canonical form. */
export function parseProfileAddress(text: string): Uint8Array {
  const a = fromBase64Url(text, PROFILE_ADDRESS_LEN);
  if (a.length !== PROFILE_ADDRESS_LEN) fail('DecodeFailed', `profile address: ${a.length} bytes, expected ${PROFILE_ADDRESS_LEN}`);
  return a;
}

export function parseProfileWriteToken(text: string | undefined): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const t = fromBase64Url(text, PROFILE_WRITE_TOKEN_LEN);
    return t.length === PROFILE_WRITE_TOKEN_LEN ? t : undefined;
  } catch {
    return undefined;
  }
}

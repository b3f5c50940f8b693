/**
 * The username link API (README "Design: private discovery"; crypto in
 * src/lib/crypto/username-link.ts): the same owner-written blob routes as profiles
 * (profile-api.ts), at a 16-byte random id.
 *
 *   GET    /api/v1/username-links/<id>   no account; the blob (the key stays in the link's fragment)
 *   PUT    /api/v1/username-links/<id>   body = blob; header X-Parley-Link-Write = write token
 *   DELETE /api/v1/username-links/<id>   header X-Parley-Link-Write = write token (a reset)
 *
 * Knows nothing of HTTP servers or storage.
 */
import { fail } from '../codec/errors';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { LINK_ID_LEN, LINK_WRITE_TOKEN_LEN, USERNAME_LINK_BLOB_LEN } from '../crypto/username-link';

export const USERNAME_LINK_PATH = '/api/v1/username-links/';
export const USERNAME_LINK_WRITE_HEADER = 'x-parley-link-write';
export { LINK_ID_LEN, LINK_WRITE_TOKEN_LEN, USERNAME_LINK_BLOB_LEN };

export function linkIdText(id: Uint8Array): string {
  if (id.length !== LINK_ID_LEN) fail('InvalidArgument', `link id: ${id.length} bytes, expected ${LINK_ID_LEN}`);
  return toBase64Url(id);
}

export function parseLinkId(text: string): Uint8Array {
  const id = fromBase64Url(text, LINK_ID_LEN);
  if (id.length !== LINK_ID_LEN) fail('DecodeFailed', `link id: ${id.length} bytes, expected ${LINK_ID_LEN}`);
  return id;
}

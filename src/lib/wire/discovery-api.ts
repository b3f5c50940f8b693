/**
 * The anonymous lookup API (README "Design: private discovery"): `GET /api/v1/discovery/<hash>`,
 * the username lookup hash (src/lib/crypto/username-hash.ts) in canonical base64url, answers
 * `{ "exists": true | false }` and nothing else. No account, no bearer token. Knows nothing of
 * HTTP servers or storage.
 */
import { fail } from '../codec/errors';
import { fromBase64Url, toBase64Url } from '../codec/base64url';
import { USERNAME_HASH_LEN } from '../crypto/username-hash';

export const DISCOVERY_PATH = '/api/v1/discovery/';

export function lookupHashText(hash: Uint8Array): string {
  if (hash.length !== USERNAME_HASH_LEN) fail('InvalidArgument', `lookup hash of ${hash.length} bytes`);
  return toBase64Url(hash);
}

export function parseLookupHash(text: string): Uint8Array {
  const h = fromBase64Url(text, USERNAME_HASH_LEN);
  if (h.length !== USERNAME_HASH_LEN) fail('DecodeFailed', `lookup hash of ${h.length} bytes, expected ${USERNAME_HASH_LEN}`);
  return h;
}

export function decodeLookupAnswer(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Object.keys(v).join() !== 'exists' || typeof (v as { exists: unknown }).exists !== 'boolean') fail('DecodeFailed', 'lookup answer');
  return (v as { exists: boolean }).exists;
}

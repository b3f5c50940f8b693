/**
 * Release tokens for attachment blobs (wire/blob-api.ts; README "Attachments"; SECURITY.md P40):
 * how a recipient tells the host "I hold this file now, you may drop it" without the host learning
 * who it is, or being able to say it for anyone.
 *
 *   releaseKey = HKDF-SHA256(salt = none, ikm = file key, info = "Parley blob release v1", 32)
 *   token(u)   = HMAC-SHA256(releaseKey, UTF-8 username u)        (32 bytes, posted by u)
 *   hash(u)    = SHA-256(token(u))                                 (listed by the uploader)
 *
 * The file key is fresh per file and travels only inside the ratchet (RFC 5869 §3.1: a uniformly
 * random IKM needs no salt), so the host, which sees the hashes at upload and each token when it is
 * posted, can neither compute a token nor tie a hash to a username. Anyone who holds the file key
 * (every recipient) could compute every recipient's token: a member could release the blob for the
 * others, which costs them a re-send, never a secret. Pure: no IO.
 */
import { toHex } from '../codec/bytes';
import { hkdf, hmacSha256 } from './hkdf';
import { sha256 } from './primitives';

const INFO = new TextEncoder().encode('Parley blob release v1');
const encoder = new TextEncoder();

function releaseKey(fileKey: Uint8Array): Uint8Array {
  return hkdf(undefined, fileKey, INFO, 32);
}

/** The token recipient `username` posts once it holds the file. */
export function releaseToken(fileKey: Uint8Array, username: string): Uint8Array {
  return hmacSha256(releaseKey(fileKey), encoder.encode(username));
}

/** The hashes the uploader lists, one per recipient, distinct and sorted (their order says nothing). */
export function releaseHashes(fileKey: Uint8Array, usernames: readonly string[]): string[] {
  const key = releaseKey(fileKey);
  const hashes = new Set(usernames.map((u) => toHex(sha256(hmacSha256(key, encoder.encode(u))))));
  return [...hashes].sort();
}

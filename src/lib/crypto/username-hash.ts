/**
 * The lookup hash of a username (README "Design: private discovery"): what an anonymous lookup
 * sends and what the host's discovery index holds, so a lookup never carries the name in clear
 * and the index is not a list of names.
 *
 *   hash = Argon2id(password = canonical username, salt = SHA-512(L)[0..16], t = 2, m = 16 MiB, 32)
 *
 * Public and deterministic (everyone must find the same entry), so it cannot stop a guess at one
 * name; it makes every guess cost 16 MiB and tens of milliseconds, which is what bounds building a
 * dictionary from a dump of the index. The salt is fixed per deployment version (the label), so
 * precomputed tables for other systems do not apply. Knows nothing of storage or HTTP.
 */
import { asUsername } from '../codec/username';
import { Labels, labelBytes } from './labels';
import { sha512 } from './primitives';
import { sodium } from './sodium';

export const USERNAME_HASH_LEN = 32;
export const USERNAME_HASH_PARAMS = { opslimit: 2, memlimitBytes: 16 * 1024 * 1024 } as const;
const SALT = (): Uint8Array => sha512(labelBytes(Labels.usernameHash)).slice(0, 16);

export function usernameLookupHash(username: string): Uint8Array {
  const s = sodium();
  const i = usernameHashInput(username);
  return s.crypto_pwhash(USERNAME_HASH_LEN, i.password, i.salt, i.opslimit, i.memlimitBytes, s.crypto_pwhash_ALG_ARGON2ID13);
}

/** What the hash is computed from, for a caller that runs Argon2id elsewhere (the host's hashing thread). */
export function usernameHashInput(username: string): { password: Uint8Array; salt: Uint8Array; opslimit: number; memlimitBytes: number } {
  return { password: new TextEncoder().encode(asUsername(username)), salt: SALT(), ...USERNAME_HASH_PARAMS };
}

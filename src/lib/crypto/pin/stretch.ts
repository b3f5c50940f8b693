/**
 * PIN stretching with Argon2id (DESIGN.md §7, SECURITY.md P25), as in Juicebox (ePrint 2025/348
 * §4.1): Argon2id(PIN, salt) -> 64 bytes = accessKey (the OPRF input) || encryptionKeySeed.
 *
 * The parameters are constants in this file, never read from a server or a stored record: a host
 * that could lower them would make every guess on a stolen dump cheap. Changing them changes every
 * stretched PIN, i.e. breaks recovery of all existing registrations — a test freezes them.
 *
 * The salt binds the username and the pinned realm set, so one precomputed table cannot serve
 * two users or two deployments. The username must be passed in the canonical form the host
 * stores: any other spelling is another salt. This module knows nothing of OPRFs, realms' records
 * or Shamir.
 */
import { sodium } from '../sodium';
import { fail } from '../../codec/errors';
import { sha512 } from '../primitives';
import { Labels, labelBytes } from '../labels';
import { ByteWriter } from '../../codec/bytes';
import { normalizePin } from './normalize';

/**
 * Argon2id v1.3, single lane (libsodium). 64 MiB is RFC 9106 §4's second recommended memory size
 * (well above the 16 MiB floor Signal and Juicebox use) and fits a mobile browser's wasm heap;
 * 4 passes put one stretch at ~160 ms in Node 20 on the reference machine (measured: 3 passes
 * ~120 ms, 4 passes ~160 ms, 5 passes ~225 ms), so a slow phone stays well under a second.
 */
export const PIN_ARGON2 = {
  algorithm: 'argon2id13',
  opslimit: 4,
  memlimitBytes: 64 * 1024 * 1024,
  outputLength: 64,
  saltLength: 16
} as const;

export const ACCESS_KEY_LEN = 32;
export const ENCRYPTION_KEY_SEED_LEN = 32;
export const REALM_ID_LEN = 16;
export const REALM_SET_ID_LEN = 32;

export interface StretchedPin {
  /** OPRF input: only ever sent to realms blinded. */
  accessKey: Uint8Array;
  /** Seed of the masks over the secret-key shares: never leaves the client. */
  encryptionKeySeed: Uint8Array;
}

/** A stretch function; production always uses `stretchPin`, tests may inject a cheap one. */
export type PinStretcher = (pin: string, username: string, realmSetId: Uint8Array) => StretchedPin;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Identifies the pinned realm list (order matters: it fixes the share indices) and threshold. */
export function realmSetId(realmIds: readonly Uint8Array[], threshold: number): Uint8Array {
  const w = new ByteWriter().bytes16(labelBytes(Labels.pinRealmSet)).u8(threshold).u8(realmIds.length);
  for (const id of realmIds) w.fixed(id, REALM_ID_LEN);
  return sha512(w.finish()).slice(0, REALM_SET_ID_LEN);
}

/** 16-byte Argon2 salt = SHA-512(label || username || realmSetId), length-prefixed fields. */
export function pinSalt(username: string, setId: Uint8Array): Uint8Array {
  if (username.length === 0) fail('InvalidArgument', 'username is empty');
  const w = new ByteWriter().bytes16(labelBytes(Labels.pinSalt)).bytes16(utf8(username)).fixed(setId, REALM_SET_ID_LEN);
  return sha512(w.finish()).slice(0, PIN_ARGON2.saltLength);
}

/** Splits the 64-byte Argon2 output as Juicebox does: first half OPRF input, second half seed. */
export function splitStretched(out: Uint8Array): StretchedPin {
  if (out.length !== PIN_ARGON2.outputLength) fail('Internal', `Argon2 output of ${out.length} bytes`);
  return { accessKey: out.slice(0, ACCESS_KEY_LEN), encryptionKeySeed: out.slice(ACCESS_KEY_LEN) };
}

/** Argon2id(normalizePin(pin), pinSalt(username, realmSetId)) with the pinned parameters. */
export const stretchPin: PinStretcher = (pin, username, setId) => {
  const s = sodium();
  const out = s.crypto_pwhash(
    PIN_ARGON2.outputLength,
    utf8(normalizePin(pin)),
    pinSalt(username, setId),
    PIN_ARGON2.opslimit,
    PIN_ARGON2.memlimitBytes,
    s.crypto_pwhash_ALG_ARGON2ID13
  );
  return splitStretched(out);
};

/**
 * Passkeys for the app lock (SECURITY.md P46) through WebAuthn's PRF extension: the authenticator
 * evaluates a secret PRF, bound to the credential, on a random 32-byte salt; its output (32
 * bytes) goes to the vault, which derives the key that wraps the lock key from it
 * (src/lib/crypto/app-lock.ts). Nothing is sent to a server: the assertion's signature is never
 * checked, only the PRF output matters, and it exists only after user verification on the
 * authenticator. WebAuthn is a window API (workers have none), so the output crosses the page
 * once, as a typed passphrase does. Knows nothing of the vault's keys.
 */
import { toBase64Url } from '$lib/codec/base64url';

export interface PasskeyPrf {
  credentialId: Uint8Array;
  prfSalt: Uint8Array;
  prfOutput: Uint8Array;
}

export class PasskeyError extends Error {}

interface PrfResults {
  prf?: { enabled?: boolean; results?: { first?: ArrayBuffer } };
}

/** True where the browser has WebAuthn with a platform or roaming authenticator at all. */
export function passkeysAvailable(): boolean {
  return typeof window !== 'undefined' && typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

const random = (n: number): Uint8Array<ArrayBuffer> => crypto.getRandomValues(new Uint8Array(n));

/** Asks the authenticator for the PRF output of `salt` with one of `ids` (user verification required). */
export async function passkeyPrf(passkeys: readonly { credentialId: Uint8Array; prfSalt: Uint8Array }[]): Promise<PasskeyPrf> {
  const evalByCredential: Record<string, { first: BufferSource }> = {};
  for (const p of passkeys) evalByCredential[toBase64Url(p.credentialId)] = { first: p.prfSalt as BufferSource };
  const cred = (await navigator.credentials.get({
    publicKey: {
      challenge: random(32),
      allowCredentials: passkeys.map((p) => ({ type: 'public-key' as const, id: p.credentialId as BufferSource })),
      userVerification: 'required',
      timeout: 120_000,
      extensions: { prf: { evalByCredential } } as AuthenticationExtensionsClientInputs
    }
  })) as PublicKeyCredential | null;
  if (!cred) throw new PasskeyError('No passkey was used.');
  const id = new Uint8Array(cred.rawId);
  const used = passkeys.find((p) => toBase64Url(p.credentialId) === toBase64Url(id));
  const out = (cred.getClientExtensionResults() as PrfResults).prf?.results?.first;
  if (!used || !out) throw new PasskeyError('This passkey or browser cannot unlock Parley (no PRF support).');
  return { credentialId: id, prfSalt: used.prfSalt, prfOutput: new Uint8Array(out) };
}

/** Creates a passkey for the lock and reads its PRF output for a fresh salt. */
export async function createLockPasskey(username: string): Promise<PasskeyPrf> {
  const prfSalt = random(32);
  const cred = (await navigator.credentials.create({
    publicKey: {
      rp: { name: 'Parley' },
      user: { id: random(16), name: username, displayName: `${username} (Parley lock)` },
      challenge: random(32),
      pubKeyCredParams: [
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -257 }
      ],
      authenticatorSelection: { userVerification: 'required', residentKey: 'preferred' },
      timeout: 120_000,
      extensions: { prf: { eval: { first: prfSalt } } } as AuthenticationExtensionsClientInputs
    }
  })) as PublicKeyCredential | null;
  if (!cred) throw new PasskeyError('No passkey was created.');
  const credentialId = new Uint8Array(cred.rawId);
  const prf = (cred.getClientExtensionResults() as PrfResults).prf;
  if (!prf?.enabled && !prf?.results?.first) throw new PasskeyError('This passkey cannot unlock Parley: the authenticator has no PRF support.');
  const first = prf.results?.first;
  // Some authenticators answer the PRF only on an assertion, not at creation.
  if (first) return { credentialId, prfSalt, prfOutput: new Uint8Array(first) };
  return passkeyPrf([{ credentialId, prfSalt }]);
}

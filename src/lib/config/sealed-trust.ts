/**
 * The sealed-sender trust root pinned in the build (SECURITY.md P41; README "sealed sender").
 * A deployment sets it at BUILD time:
 *   VITE_PARLEY_SEALED_ROOT=<base64url Ed25519 public key>   (the host prints it to DATA_DIR/sealed-root.pub
 *   for a development root; an operator's offline root otherwise)
 * Unset, the vault pins the root the host serves on first use (workers/engine/sealed-state.ts).
 * A malformed value fails the app at startup, loudly.
 */
import { fromBase64Url } from '../codec/base64url';
import type { SealedSenderTrust } from '../crypto/certificates';

export function parseSealedRoot(text: string): SealedSenderTrust {
  let root: Uint8Array;
  try {
    root = fromBase64Url(text.trim(), 32);
  } catch {
    throw new Error('VITE_PARLEY_SEALED_ROOT: not base64url');
  }
  if (root.length !== 32) throw new Error(`VITE_PARLEY_SEALED_ROOT: ${root.length} bytes, expected 32`);
  return { root, revokedServerKeyIds: [] };
}

const fromBuild = import.meta.env?.VITE_PARLEY_SEALED_ROOT as string | undefined;

/** The trust this build pins, or undefined (trust on first use). */
export const PINNED_SEALED_TRUST: SealedSenderTrust | undefined = fromBuild ? parseSealedRoot(fromBuild) : undefined;

/**
 * A memo for sealed sender (SECURITY.md P41), so a conversation does not pay for the same
 * long-lived work on every envelope. Never a source of truth: every sealed-sender function
 * returns exactly the same result, or throws exactly the same error, with or without a cache
 * (tests/crypto/sealed-sender.test.ts runs the same envelopes both ways).
 *
 * It remembers two things, each bounded (least recently used goes first):
 * - Sender certificates whose SIGNATURES were verified under this cache's trust (root -> server
 *   certificate -> sender certificate, and IKs over IKd), keyed by SHA-256 of the certificate's
 *   exact bytes. A hit skips only the three Ed25519 verifications: revocation, both expiries and
 *   "does not outlive its signer" are still checked on every envelope, at that envelope's time.
 * - The static-static X25519 secret DH(our IKd, their IKd) for an identity pair, which is the same
 *   for every envelope between them. The opener stores one only after an envelope from that key
 *   opened and verified completely, so forged envelopes cannot fill the cache.
 * - Secrets derived from that static secret under a label (v2's tag key, sealed-v2-keys.ts), so a
 *   group send to N members does no static DH and no extract per member. Only the sender stores
 *   these, for recipients whose keys it took from its own records.
 * Every secret is keyed by the exact bytes of BOTH public keys: when either identity key changes,
 * the new pair misses and is computed afresh (tests/crypto/sealed-v2-keys.test.ts), never served a
 * secret of the old key.
 *
 * The cache holds secrets (the static secrets are as sensitive as the identity key they come from)
 * and lives only in the vault worker's memory, one per identity and trust: it is never stored.
 * `clear()` wipes it (the engine calls it when the vault locks, the account leaves this browser or
 * the local data is reset: workers/engine/memory-secrets.ts). Knows nothing of envelopes' layouts.
 */
import { fail } from '../codec/errors';
import { bytesEqual, toHex } from '../codec/bytes';
import type { SealedSenderTrust, VerifiedCertificateMemo } from './certificates';
import { sha256, wipe } from './primitives';

/**
 * Entries per kind: far more than anyone's active conversations plus a few 1000-member groups
 * (a static secret and a tag key per member), small in memory (< 1 MiB).
 */
export const SEALED_CACHE_CAPACITY = 4096;

export class SealedSenderCache implements VerifiedCertificateMemo {
  private readonly certificates = new Map<string, true>();
  private readonly secrets = new Map<string, Uint8Array>();

  constructor(
    readonly trust: SealedSenderTrust,
    private readonly capacity = SEALED_CACHE_CAPACITY
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) fail('InvalidArgument', `cache capacity ${capacity}`);
  }

  /** Throws unless this cache was made for `trust` (a cache is never shared across trusts). */
  checkTrust(trust: SealedSenderTrust): void {
    const same =
      trust === this.trust ||
      (bytesEqual(trust.root, this.trust.root) &&
        trust.revokedServerKeyIds.length === this.trust.revokedServerKeyIds.length &&
        trust.revokedServerKeyIds.every((id, i) => id === this.trust.revokedServerKeyIds[i]));
    if (!same) fail('InvalidArgument', 'sealed sender cache was made for another trust');
  }

  /** True if these exact certificate bytes had their signatures verified under this trust. */
  hasVerifiedCertificate(certificate: Uint8Array): boolean {
    return touch(this.certificates, toHex(sha256(certificate))) !== undefined;
  }

  rememberVerifiedCertificate(certificate: Uint8Array): void {
    put(this.certificates, toHex(sha256(certificate)), true, this.capacity);
  }

  /** DH(our IKd, their IKd) if remembered (a copy: callers wipe what they use). */
  staticSecret(ourKey: Uint8Array, theirKey: Uint8Array): Uint8Array | undefined {
    return touch(this.secrets, pairKey(ourKey, theirKey))?.slice();
  }

  rememberStaticSecret(ourKey: Uint8Array, theirKey: Uint8Array, secret: Uint8Array): void {
    const evicted = put(this.secrets, pairKey(ourKey, theirKey), secret.slice(), this.capacity);
    wipe(evicted);
  }

  /** The secret derived under `label` from DH(our IKd, their IKd), if remembered (a copy). */
  derivedSecret(label: string, ourKey: Uint8Array, theirKey: Uint8Array): Uint8Array | undefined {
    return touch(this.secrets, derivedKey(label, ourKey, theirKey))?.slice();
  }

  rememberDerivedSecret(label: string, ourKey: Uint8Array, theirKey: Uint8Array, secret: Uint8Array): void {
    wipe(put(this.secrets, derivedKey(label, ourKey, theirKey), secret.slice(), this.capacity));
  }

  /** Forgets everything, wiping the remembered secrets. */
  clear(): void {
    for (const s of this.secrets.values()) wipe(s);
    this.secrets.clear();
    this.certificates.clear();
  }
}

// One UTF-16 unit per byte: an exact, injective key for a fixed-length pair, and cheaper than hex
// (a group send looks up one per member).
function binary(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

function pairKey(ourKey: Uint8Array, theirKey: Uint8Array): string {
  return `${ourKey.length}:${binary(ourKey)}${binary(theirKey)}`;
}

function derivedKey(label: string, ourKey: Uint8Array, theirKey: Uint8Array): string {
  return `${label}\u0000${pairKey(ourKey, theirKey)}`;
}

/** Gets and marks as most recently used (a Map iterates in insertion order). */
function touch<V>(m: Map<string, V>, k: string): V | undefined {
  const v = m.get(k);
  if (v !== undefined) {
    m.delete(k);
    m.set(k, v);
  }
  return v;
}

/** Inserts as most recently used; returns an evicted value, if any. */
function put<V>(m: Map<string, V>, k: string, v: V, capacity: number): V | undefined {
  const old = m.get(k);
  m.delete(k);
  m.set(k, v);
  if (old !== undefined && old !== v) return old;
  if (m.size > capacity) {
    const oldest = m.keys().next().value as string;
    const out = m.get(oldest);
    m.delete(oldest);
    return out;
  }
  return undefined;
}

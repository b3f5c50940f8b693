/**
 * What the host persists for sealed sender (SECURITY.md P41), a sub-port of its own beside
 * port.ts's AccountRecordStore: each account's SealedAccess (delivery-token verifier and the
 * "sealed from anyone" flag, delivery-token.ts), the host's certificate key (the Ed25519 key that
 * signs sender certificates, with the ServerCertificate the trust root signed for it) and, in a
 * development deployment only, the trust root's key pair itself.
 *
 * It holds no sender of anything: sealed envelopes go to the mailbox with an empty sender.
 * Every method is atomic on its own. Knows nothing of HTTP, envelopes or what the bytes mean.
 */

/** A stored signing key: encoded certificate (or public key) and the private half. */
export interface StoredKeyPair {
  publicPart: Uint8Array;
  privateKey: Uint8Array;
}

export interface SealedStore {
  /** The encoded SealedAccess of `username`, if it set one. */
  getAccess(username: string): Promise<Uint8Array | undefined>;
  /** Sets (or replaces) the account's SealedAccess. */
  putAccess(username: string, access: Uint8Array, now: number): Promise<void>;
  /** The certificate key: encoded ServerCertificate and its Ed25519 private key. */
  getCertificateKey(): Promise<StoredKeyPair | undefined>;
  /**
   * Stores the certificate key if there is none, or replaces the stored one only if its public
   * part is `replaces` (compare-and-set: of instances renewing at once, one wins); otherwise
   * keeps what is stored. Callers read it back and use whatever is stored.
   */
  putCertificateKey(key: StoredKeyPair, replaces?: Uint8Array): Promise<void>;
  /** Development only: a trust root made by this host (its public key and private key). */
  getDevelopmentRoot(): Promise<StoredKeyPair | undefined>;
  /** Stores the root if there is none (the first writer's root stays). */
  putDevelopmentRoot(key: StoredKeyPair): Promise<void>;
  close(): void;
}

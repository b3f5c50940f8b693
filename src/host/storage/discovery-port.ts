/**
 * Storage sub-port of the private discovery index (README "Design: private discovery"): the set of
 * username lookup hashes (src/lib/crypto/username-hash.ts), nothing else, so an anonymous lookup
 * is answered by membership alone. Knows nothing of HTTP or how a hash is made.
 */
export interface DiscoveryIndex {
  has(hash: Uint8Array): Promise<boolean>;
  add(hash: Uint8Array): Promise<void>;
  /** How many hashes are held (the one-time migration runs when it is 0). */
  size(): Promise<number>;
  close(): Promise<void>;
}

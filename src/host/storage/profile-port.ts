/**
 * Storage sub-port for owner-written blobs: private profile blobs (SECURITY.md P43, README "Design:
 * private profiles") and encrypted username links (README "Design: private discovery"). Opaque
 * ciphertext at an address (a profile's 32 bytes from its key, a link's 16 random bytes), with the
 * SHA-256 verifier of the owner's write token. Nothing here names an account: a dump of this store
 * links no blob to a username.
 *
 * Check-and-write is atomic: `put` creates a blob with its verifier, or replaces one whose stored
 * verifier equals the given one; `remove` likewise. Comparing verifiers (not tokens) keeps the
 * token out of storage. Knows nothing of HTTP, profiles' contents or crypto.
 */
export interface StoredProfile {
  blob: Uint8Array;
  updatedAt: number;
}

export interface ProfileStore {
  get(address: Uint8Array): Promise<StoredProfile | undefined>;
  put(address: Uint8Array, verifier: Uint8Array, blob: Uint8Array, now: number): Promise<'stored' | 'mismatch'>;
  remove(address: Uint8Array, verifier: Uint8Array): Promise<'deleted' | 'absent' | 'mismatch'>;
}

/** Username links keep the same shape (username-link.ts): id -> verifier + encrypted username. */
export type UsernameLinkStore = ProfileStore;

export interface OwnedBlobStores {
  profiles: ProfileStore;
  links: UsernameLinkStore;
  close(): Promise<void>;
}

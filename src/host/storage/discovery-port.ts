/**
 * Storage sub-port of the private discovery index (README "Design: private discovery"): username
 * lookup hashes (src/lib/crypto/username-hash.ts), each with the account's public identity key, so
 * an anonymous lookup is answered by the hash alone and a client can show a safety number without
 * an authenticated bundle fetch. No names. Entries from before the identity column have none
 * (`missingIdentities`) until the host's fill gives them one. Knows nothing of HTTP or hashing.
 */
export interface DiscoveryIndex {
  /** The encoded identity stored for `hash`: `null` for an entry without one yet, undefined if none. */
  find(hash: Uint8Array): Promise<Uint8Array | null | undefined>;
  /** Adds the entry, or sets the identity of an entry that had none; never replaces an identity. */
  add(hash: Uint8Array, identity: Uint8Array): Promise<void>;
  /** Drops entries that still have no identity after the fill (an account that is gone). */
  dropIncomplete(): Promise<number>;
  /** The identities of every entry that has one: the fill hashes only accounts not among them. */
  identities(): Promise<Uint8Array[]>;
  /** How many entries have no identity yet (v1 entries: the fill then hashes every account not held). */
  missingIdentities(): Promise<number>;
  close(): Promise<void>;
}

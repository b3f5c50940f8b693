/**
 * The host's store of encrypted group state blobs (README "Groups": "Secrets and what the host
 * keeps"; SECURITY.md P19): opaque padded bytes at a 32-byte address, replaced only by whoever
 * presents the write token whose SHA-256 the first write fixed. A sub-port of its own so each
 * backend implements it in its own file (sqlite-group-blobs.ts). Knows nothing of groups.
 */
export interface GroupBlobStore {
  getBlob(address: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * Stores a first blob (fixing its token hash) or replaces one whose token hash matches; atomic.
   * With `nextTokenHash` the stored hash becomes that one in the same write (a key handoff).
   */
  putBlob(address: Uint8Array, tokenHash: Uint8Array, blob: Uint8Array, now: number, nextTokenHash?: Uint8Array): Promise<'stored' | 'mismatch'>;
  close(): Promise<void>;
}

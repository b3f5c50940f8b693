/**
 * The host's store of attachment blobs (wire/blob-api.ts; README "Attachments"): opaque padded
 * ciphertext written in order by its uploader and read by range. A sub-port of its own so each
 * backend implements it in its own file (sqlite-blobs.ts). Knows nothing of what a blob holds or
 * who may read it (blobs.ts decides that).
 */
export interface BlobRecord {
  id: string;
  owner: string;
  size: number;
  received: number;
  createdAt: number;
}

/** An append at an offset other than where the blob is (the caller answers 409 with `received`). */
export class BlobOffsetError extends Error {
  constructor(readonly received: number) {
    super(`blob has ${received} bytes`);
  }
}

export interface BlobStore {
  /** A new, empty blob of `size` bytes under a fresh id (32 hex digits, validated again here). */
  create(id: string, owner: string, size: number, now: number): Promise<void>;
  get(id: string): Promise<BlobRecord | undefined>;
  /** Unfinished uploads of `owner`. */
  pending(owner: string): Promise<number>;
  /** Writes `bytes` at `offset`, which must equal `received` (else BlobOffsetError); durable before it answers. */
  append(id: string, offset: number, bytes: Uint8Array): Promise<number>;
  /** Bytes [start, end) of a blob. */
  read(id: string, start: number, end: number): Promise<Uint8Array>;
  /** Deletes blobs created before `before`, and unfinished ones created before `incompleteBefore`; the count deleted. */
  sweep(before: number, incompleteBefore: number): Promise<number>;
  close(): Promise<void>;
}

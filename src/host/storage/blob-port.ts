/**
 * The host's store of attachment blobs (wire/blob-api.ts; README "Attachments"): opaque padded
 * ciphertext written in order by its uploader and read by range. A sub-port of its own so each
 * backend implements it in its own file (sqlite-blobs.ts, pg/blobs.ts). Knows nothing of what a
 * blob holds or who may read it (blobs.ts decides that).
 *
 * Release hashes (wire/blob-api.ts MAX_BLOB_RELEASES): a blob may list, at creation, the SHA-256
 * of one release token per recipient, and its uploader may list more later (`addReleases`: a
 * member who joined while the file went up), never more than MAX_BLOB_RELEASES at once.
 * `release` strikes one hash off; the release that strikes off the last listed hash of a complete
 * blob deletes the blob at once. Nothing else deletes early: a blob created with no list goes by
 * age only (`sweep`) until hashes are added, and so does one whose last hash was struck off before
 * its upload completed (strikes stay struck; no later release is left to delete it, unless the
 * uploader adds a hash). Recipients release only what they fetched, so that takes a misbehaving
 * client.
 */
import { isReleaseHex, MAX_BLOB_RELEASES } from '../../lib/wire/blob-api';

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
  /**
   * A new, empty blob of `size` bytes under a fresh id (32 hex digits, validated again here),
   * listing `releases` (checkedReleases; empty: the blob goes by age only), all in one write.
   */
  create(id: string, owner: string, size: number, now: number, releases: readonly string[]): Promise<void>;
  get(id: string): Promise<BlobRecord | undefined>;
  /** Unfinished uploads of `owner`. */
  pending(owner: string): Promise<number>;
  /** Writes `bytes` at `offset`, which must equal `received` (else BlobOffsetError); durable before it answers. */
  append(id: string, offset: number, bytes: Uint8Array): Promise<number>;
  /** Bytes [start, end) of a blob. */
  read(id: string, start: number, end: number): Promise<Uint8Array>;
  /**
   * In one transaction: strikes `hash` off the blob's release list if it is there; if that emptied
   * the list and the blob is complete (received = size), deletes the blob (row, bytes, list) and
   * answers true. Otherwise false and, beyond the strike, nothing changes: an unknown blob, an
   * unlisted or already struck hash, a blob listing none, are no-ops (idempotent). Two releases
   * racing on the last two hashes delete the blob exactly once.
   */
  release(id: string, hash: string): Promise<boolean>;
  /**
   * In one transaction, if blob `id` exists and is `owner`'s: lists each of `releases`
   * (checkedReleases) not listed yet (one already listed is left as it is: idempotent) and answers
   * 'added'. 'missing', changing nothing, for a blob that does not exist (never created, released
   * or swept) or is another owner's: the two read alike. 'tooMany', changing nothing, if the list
   * would then hold more than MAX_BLOB_RELEASES hashes. Serialised with `release` on the blob:
   * either the add comes first and the release sees the added hashes (and does not delete), or
   * the release deleted the blob and the add answers 'missing'; an 'added' is never lost.
   */
  addReleases(id: string, owner: string, releases: readonly string[]): Promise<'added' | 'missing' | 'tooMany'>;
  /**
   * Deletes blob `id` (row, bytes, release list), complete or not, if it is `owner`'s: the
   * uploader withdrew the message that pointed at it (a delete for everyone) or gave up its
   * upload. True if it was deleted; false, changing nothing, for a blob that does not exist or is
   * another owner's (the two read alike). Serialised with `append` and `release` on the blob.
   */
  remove(id: string, owner: string): Promise<boolean>;
  /**
   * Deletes blobs created before `before`, and unfinished ones created before `incompleteBefore`,
   * with their release lists; the count deleted.
   */
  sweep(before: number, incompleteBefore: number): Promise<number>;
  close(): Promise<void>;
}

/** `releases` if each is 64 lowercase hex, they are distinct and at most MAX_BLOB_RELEASES; throws otherwise. */
export function checkedReleases(releases: readonly string[]): readonly string[] {
  if (releases.length > MAX_BLOB_RELEASES) throw new Error(`${releases.length} release hashes, more than ${MAX_BLOB_RELEASES}`);
  if (!releases.every(isReleaseHex)) throw new Error('a release hash is not 64 lowercase hex digits');
  if (new Set(releases).size !== releases.length) throw new Error('release hashes repeat');
  return releases;
}

/** A release hash to look up; throws unless 64 lowercase hex digits. */
export function checkedHash(hash: string): string {
  if (!isReleaseHex(hash)) throw new Error('release hash is not 64 lowercase hex digits');
  return hash;
}

/**
 * The host's attachment blob endpoints (src/host/blobs.ts; README "Attachments"): routes, ids and
 * limits shared by the host and the vault worker. A blob is opaque padded ciphertext
 * (crypto/attachment.ts); the host learns its size class, its uploader, how many recipients it
 * lists (as the message's fan-out shows anyway), and when it is fetched and released.
 *
 *   POST /api/v1/blobs (bearer, JSON {size, releases?})   -> 201 {id}   413 beyond MAX_BLOB_BYTES
 *   GET  /api/v1/blobs/<id>/upload (bearer, uploader)     -> {size, received}   (to resume)
 *   PUT  /api/v1/blobs/<id>?offset=N (bearer, uploader, bytes ≤ MAX_PART_BYTES)
 *                                                         -> {received}   409 {received} if N is not
 *                                                            where the host is; 413 past the size
 *   GET  /api/v1/blobs/<id> (no account; Range: bytes=a-b) -> 200 / 206 bytes; 404 unknown or incomplete
 *   POST /api/v1/blobs/<id>/release (no account; JSON {token}) -> 204, whether or not the token or
 *                                                            the blob exists (no oracle; P40)
 *   POST /api/v1/blobs/<id>/recipients (bearer, uploader; JSON {releases}) -> 204 once the hashes
 *                                                            are listed too (a member who joined
 *                                                            while the file went up); 404 for a
 *                                                            blob that is gone or not the caller's;
 *                                                            400 past MAX_BLOB_RELEASES listed
 *   DELETE /api/v1/blobs/<id> (bearer, uploader)          -> 204 deleted, complete or not; 404 for a
 *                                                            blob that is gone or not the caller's
 *
 * Ids are 16 random bytes from the host's CSPRNG as 32 lowercase hex digits; anything else is a
 * 400 before any lookup (P40). Blobs are deleted BLOB_RETENTION_MS after upload, or earlier, once
 * every recipient released it: the uploader lists, at creation, the SHA-256 of one release token
 * per recipient (crypto/blob-release.ts; tokens the host cannot compute or tie to a username), and
 * each recipient posts its token once it holds the file itself. A complete blob whose every listed
 * hash was released is deleted at once, and one its uploader deletes, at once. A blob created with
 * no list goes by age only.
 */
import { blobSize, MAX_ATTACHMENT_BYTES } from '../crypto/attachment';

export const BLOB_API = { blobs: '/api/v1/blobs', prefix: '/api/v1/blobs/', releaseSuffix: '/release', recipientsSuffix: '/recipients' } as const;
/** The largest blob: a MAX_ATTACHMENT_BYTES file sealed and padded. */
export const MAX_BLOB_BYTES = blobSize(MAX_ATTACHMENT_BYTES);
/** Largest upload part; the client sends 1 MiB parts. */
export const MAX_PART_BYTES = 4 * 1024 * 1024;
export const UPLOAD_PART_BYTES = 1024 * 1024;
export const BLOB_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** An upload not finished in this time is deleted. */
export const INCOMPLETE_RETENTION_MS = 2 * 24 * 3600 * 1000;
/** Unfinished uploads one account may hold at once. */
export const MAX_PENDING_UPLOADS = 8;

/** Release hashes one blob may list: one per recipient, a full group at most (crypto/group/limits.ts MAX_MEMBERS). */
export const MAX_BLOB_RELEASES = 1000;

export const isBlobId = (s: string): boolean => /^[0-9a-f]{32}$/.test(s);
/** A release token (32 bytes) or its SHA-256, as 64 lowercase hex digits. */
export const isReleaseHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);

export interface BlobCreate {
  size: number;
  /** SHA-256 of each recipient's release token, distinct (isReleaseHex); absent: deleted by age only. */
  releases?: string[];
}
export interface BlobRelease {
  token: string;
}
/** More recipients of a blob its uploader already created: their release hashes (1..MAX_BLOB_RELEASES, distinct). */
export interface BlobAddRecipients {
  releases: string[];
}

export interface BlobCreated {
  id: string;
}
export interface BlobUploadState {
  size: number;
  received: number;
}

/**
 * The host's attachment blob endpoints (src/host/blobs.ts; README "Attachments"): routes, ids and
 * limits shared by the host and the vault worker. A blob is opaque padded ciphertext
 * (crypto/attachment.ts); the host learns its size class, its uploader and when it is fetched.
 *
 *   POST /api/v1/blobs (bearer, JSON {size})              -> 201 {id}   413 beyond MAX_BLOB_BYTES
 *   GET  /api/v1/blobs/<id>/upload (bearer, uploader)     -> {size, received}   (to resume)
 *   PUT  /api/v1/blobs/<id>?offset=N (bearer, uploader, bytes ≤ MAX_PART_BYTES)
 *                                                         -> {received}   409 {received} if N is not
 *                                                            where the host is; 413 past the size
 *   GET  /api/v1/blobs/<id> (bearer; Range: bytes=a-b)    -> 200 / 206 bytes; 404 unknown or incomplete
 *
 * Ids are 16 random bytes from the host's CSPRNG as 32 lowercase hex digits; anything else is a
 * 400 before any lookup (P40). Blobs are deleted BLOB_RETENTION_MS after upload.
 */
import { blobSize, MAX_ATTACHMENT_BYTES } from '../crypto/attachment';

export const BLOB_API = { blobs: '/api/v1/blobs', prefix: '/api/v1/blobs/' } as const;
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

export const isBlobId = (s: string): boolean => /^[0-9a-f]{32}$/.test(s);

export interface BlobCreated {
  id: string;
}
export interface BlobUploadState {
  size: number;
  received: number;
}

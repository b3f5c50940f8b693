/**
 * The attachment message body (content kind 0x10, wire/content.ts; DESIGN.md §4 "Encoding"):
 * what a recipient needs to fetch, check and open one file (crypto/attachment.ts).
 *
 *   id (16) || sentAt u64 || blob id (16) || key (32) || digest (32) || size u64
 *   || mime u8 (MimeCode) || u8-length UTF-8 file name (0..255)
 *   || u16-length thumbnail (0..MAX_THUMBNAIL_BYTES, a JPEG the sender's browser re-encoded; for
 *      an audio type, a voice note's waveform and length, wire/voice-note.ts)
 *   || u16-length UTF-8 caption (0..MAX_CAPTION_BYTES)
 *
 * The sender never chooses how a file is rendered (SECURITY.md P40): the MIME type travels as a
 * code from a closed allow-list, and an unknown code reads as a generic file; the name is text to
 * show, never a path (downloadName() makes the one used to save). Knows nothing of IO.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, fromHex, toHex } from '../codec/bytes';

export const BLOB_ID_LEN = 16;
export const MAX_FILE_NAME_BYTES = 255;
export const MAX_THUMBNAIL_BYTES = 48 * 1024;
export const MAX_CAPTION_BYTES = 4096;

/**
 * The allow-list, in code order (the code is the index; append only). Only the image/* entries are
 * ever previewed and only the audio/* ones played (voice notes, wire/voice-note.ts); everything
 * else is a generic file.
 */
export const MIME_TYPES = ['application/octet-stream', 'image/jpeg', 'image/png', 'image/webp', 'image/gif', 'application/pdf', 'text/plain', 'audio/webm', 'audio/ogg', 'audio/mp4'] as const;
export type AttachmentMime = (typeof MIME_TYPES)[number];

export type AttachmentContent = {
  kind: 'attachment';
  id: string;
  sentAt: number;
  /** Host blob id, 32 hex digits. */
  blobId: string;
  key: Uint8Array;
  digest: Uint8Array;
  size: number;
  mime: AttachmentMime;
  name: string;
  thumbnail?: Uint8Array;
  caption?: string;
};

/**
 * The allow-listed type for whatever a browser or sender claims (anything else: a generic file).
 * Parameters are dropped: a recorder's "audio/webm;codecs=opus" is "audio/webm".
 */
export function allowedMime(claim: string): AttachmentMime {
  const t = (claim.split(';')[0] ?? '').trim().toLowerCase();
  return (MIME_TYPES as readonly string[]).includes(t) ? (t as AttachmentMime) : 'application/octet-stream';
}

export const isImageMime = (m: AttachmentMime): boolean => m.startsWith('image/');
/** A voice note: an allow-listed audio type, whose preview field holds a waveform (wire/voice-note.ts). */
export const isVoiceMime = (m: AttachmentMime): boolean => m.startsWith('audio/');

/**
 * A name as shown on screen: control and bidi-override characters become U+FFFD, so a name like
 * "evil\u202Etxt.exe" cannot pass itself off as "evilexe.txt" (it shows "evil�txt.exe").
 */
export function shownName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/**
 * A name safe to offer a browser's download: no path separators, control or bidi characters,
 * no leading dots, at most 120 characters, never empty.
 */
export function downloadName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\:*?"<>|]/g, '_').replace(/^[.\s]+/, '').trim();
  return [...cleaned].slice(0, 120).join('') || 'file';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(raw: Uint8Array, what: string): string {
  try {
    return decoder.decode(raw);
  } catch {
    return fail('DecodeFailed', `${what} of ${raw.length} bytes is not UTF-8`);
  }
}

export function writeAttachment(w: ByteWriter, c: AttachmentContent): ByteWriter {
  if (!/^[0-9a-f]{32}$/.test(c.id)) fail('InvalidArgument', `message id of ${c.id.length} characters`);
  if (!/^[0-9a-f]{32}$/.test(c.blobId)) fail('InvalidArgument', `blob id of ${c.blobId.length} characters`);
  if (!Number.isSafeInteger(c.size) || c.size < 0) fail('InvalidArgument', `file size ${c.size}`);
  const name = encoder.encode(c.name);
  if (name.length > MAX_FILE_NAME_BYTES) fail('InvalidArgument', `file name of ${name.length} bytes exceeds ${MAX_FILE_NAME_BYTES}`);
  const thumb = c.thumbnail ?? new Uint8Array(0);
  if (thumb.length > MAX_THUMBNAIL_BYTES) fail('InvalidArgument', `thumbnail of ${thumb.length} bytes exceeds ${MAX_THUMBNAIL_BYTES}`);
  const caption = encoder.encode(c.caption ?? '');
  if (caption.length > MAX_CAPTION_BYTES) fail('InvalidArgument', `caption of ${caption.length} bytes exceeds ${MAX_CAPTION_BYTES}`);
  const mime = MIME_TYPES.indexOf(c.mime);
  if (mime < 0) fail('InvalidArgument', 'MIME type not on the allow-list');
  w.fixed(fromHex(c.id), 16).u64(c.sentAt).fixed(fromHex(c.blobId), BLOB_ID_LEN).fixed(c.key, 32).fixed(c.digest, 32).u64(c.size).u8(mime);
  return w.u8(name.length).raw(name).bytes16(thumb).bytes16(caption);
}

export function readAttachment(r: ByteReader): AttachmentContent {
  const id = toHex(r.fixed(16));
  const sentAt = r.u64();
  const blobId = toHex(r.fixed(BLOB_ID_LEN));
  const key = r.fixed(32).slice();
  const digest = r.fixed(32).slice();
  const size = r.u64();
  const code = r.u8();
  const mime = MIME_TYPES[code] ?? 'application/octet-stream';
  const name = utf8(r.fixed(r.u8()), 'file name');
  const thumb = r.bytes16(MAX_THUMBNAIL_BYTES).slice();
  const caption = utf8(r.bytes16(MAX_CAPTION_BYTES), 'caption');
  r.end();
  return { kind: 'attachment', id, sentAt, blobId, key, digest, size, mime, name, ...(thumb.length ? { thumbnail: thumb } : {}), ...(caption ? { caption } : {}) };
}

/**
 * What a sealed envelope holds once opened (SECURITY.md P41), Signal's
 * UnidentifiedSenderMessageContent with our own layout, and the padding that hides its size.
 * Shared by sealed sender v1 (one recipient) and v2 (many).
 *
 *   version u8 || content type u8 || content hint u8 || group flag u8 [|| group id 32] ||
 *   SenderCertificate (certificates.ts, self-delimiting) || u32 length || content ||
 *   0x80 || 0x00 ... to the padded length
 *
 * Padding: the padded length depends on the content length ONLY. It is computed as if the
 * certificate had the longest username (32) and a group id were present, plus the 0x80 marker,
 * rounded up to a multiple of PADDING_BLOCK (160, as inside the ratchet). So the host learns
 * neither the sender's username length nor whether a message belongs to a group, and since the
 * ratchet already pads every plaintext to 160-byte blocks, a read receipt, a typing notice and a
 * short text (all under 160 bytes before the ratchet) seal to exactly the same size. Decoding is
 * strict: known type and hint only, a group id only as flag 1, the content bounded, and the
 * padding canonical (exactly the computed length, 0x80 then zeros).
 *
 * Knows nothing of keys or layers: sealed-sender.ts and sealed-sender-v2.ts encrypt this.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter } from '../codec/bytes';
import { PADDING_BLOCK } from '../codec/padding';
import { SENDER_CERTIFICATE_MAX_LEN, encodeSenderCertificate, readSenderCertificate, type SenderCertificate } from './certificates';
import { MAX_INNER_MESSAGE } from './message';

export const SEALED_CONTENT_VERSION = 1;

/** What the content is, so the recipient knows which decryptor to hand it to. */
export const SealedContentType = {
  /** A 1:1 session message (session.ts): PreKeyMessage or RatchetMessage, its first byte says which. */
  session: 1,
  /** A group sender-key message (reserved for groups; DESIGN.md §4 "Groups"). */
  senderKey: 2
} as const;
export type SealedContentType = (typeof SealedContentType)[keyof typeof SealedContentType];

/** How the recipient should treat a failure to decrypt the content (libsignal's ContentHint). */
export const ContentHint = {
  /** Show an error at once: the sender will not resend. */
  default: 0,
  /** The sender can resend: wait before showing an error. */
  resendable: 1,
  /** Receipts, typing: never show an error. */
  implicit: 2
} as const;
export type ContentHint = (typeof ContentHint)[keyof typeof ContentHint];

export const GROUP_ID_LEN = 32;
/** A session message: the largest inner ratchet message plus a PreKeyMessage header (about 1.3 KiB). */
export const MAX_SEALED_CONTENT = MAX_INNER_MESSAGE + 2048;
/** version, type, hint, group flag and id, certificate, content length: the size padding reserves. */
const RESERVED_OVERHEAD = 4 + GROUP_ID_LEN + SENDER_CERTIFICATE_MAX_LEN + 4;

export interface SealedContent {
  readonly contentType: SealedContentType;
  readonly contentHint: ContentHint;
  /** 32 bytes for a group message, null otherwise. */
  readonly groupId: Uint8Array | null;
  readonly senderCertificate: SenderCertificate;
  readonly content: Uint8Array;
}

/** The padded length of sealed content carrying `contentLength` bytes (see the module header). */
export function paddedSealedContentLength(contentLength: number): number {
  return Math.ceil((RESERVED_OVERHEAD + contentLength + 1) / PADDING_BLOCK) * PADDING_BLOCK;
}

/** The largest padded sealed content (the bound every opener checks before decrypting). */
export const MAX_PADDED_SEALED_CONTENT = paddedSealedContentLength(MAX_SEALED_CONTENT);

const TYPES = new Set<number>(Object.values(SealedContentType));
const HINTS = new Set<number>(Object.values(ContentHint));

function checkFields(c: Omit<SealedContent, 'senderCertificate'>, code: 'InvalidArgument' | 'DecodeFailed'): void {
  if (!TYPES.has(c.contentType)) fail(code, `sealed content type ${c.contentType}`);
  if (!HINTS.has(c.contentHint)) fail(code, `sealed content hint ${c.contentHint}`);
  if (c.groupId !== null && c.groupId.length !== GROUP_ID_LEN) fail(code, `group id of ${c.groupId.length} bytes, expected ${GROUP_ID_LEN}`);
  if (c.content.length > MAX_SEALED_CONTENT) fail(code, `sealed content of ${c.content.length} bytes exceeds ${MAX_SEALED_CONTENT}`);
}

/** The padded plaintext of a sealed layer. */
export function encodeSealedContent(c: SealedContent): Uint8Array {
  checkFields(c, 'InvalidArgument');
  const w = new ByteWriter().u8(SEALED_CONTENT_VERSION).u8(c.contentType).u8(c.contentHint);
  if (c.groupId === null) w.u8(0);
  else w.u8(1).fixed(c.groupId, GROUP_ID_LEN);
  const body = w.raw(encodeSenderCertificate(c.senderCertificate)).bytes32(c.content).finish();
  const out = new Uint8Array(paddedSealedContentLength(c.content.length));
  out.set(body);
  out[body.length] = 0x80;
  return out;
}

/** Strict decode of an authenticated, padded plaintext (DecodeFailed / UnsupportedVersion). */
export function decodeSealedContent(padded: Uint8Array): SealedContent {
  if (padded.length > MAX_PADDED_SEALED_CONTENT) fail('DecodeFailed', `sealed content of ${padded.length} bytes exceeds ${MAX_PADDED_SEALED_CONTENT}`);
  const r = new ByteReader(padded, 'sealed content');
  const version = r.u8();
  if (version !== SEALED_CONTENT_VERSION) fail('UnsupportedVersion', `sealed content version ${version}`);
  const contentType = r.u8() as SealedContentType;
  const contentHint = r.u8() as ContentHint;
  const flag = r.u8();
  if (flag > 1) fail('DecodeFailed', `sealed content group flag ${flag}`);
  const groupId = flag === 1 ? r.fixed(GROUP_ID_LEN) : null;
  const senderCertificate = readSenderCertificate(r);
  const content = r.bytes32(MAX_SEALED_CONTENT);
  checkFields({ contentType, contentHint, groupId, content }, 'DecodeFailed');
  if (padded.length !== paddedSealedContentLength(content.length)) {
    fail('DecodeFailed', `sealed content padded to ${padded.length} bytes, expected ${paddedSealedContentLength(content.length)}`);
  }
  const tail = r.rest();
  if (tail[0] !== 0x80) fail('DecodeFailed', 'sealed content padding has no marker');
  for (let i = 1; i < tail.length; i++) if (tail[i] !== 0) fail('DecodeFailed', `sealed content padding byte ${i} is not zero`);
  return { contentType, contentHint, groupId, senderCertificate, content };
}

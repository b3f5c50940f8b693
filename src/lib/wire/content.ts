/**
 * Message content: what travels INSIDE the ratchet (DESIGN.md §4 "Encoding": content is a typed
 * union, padded before encryption by the session). Strict and versioned.
 *
 *   version u8 (1) || kind u8 || body
 *   kind 0x01 text:    id (16) || sentAt u64 (sender clock, ms) || u32-length UTF-8 text
 *   kind 0x02 receipt: receipt type u8 (1 delivered, 2 read) || u16 count (1..MAX) || count x id (16)
 *   kind 0x03 call:    u16-length call signal (1..MAX_CALL_SIGNAL_BYTES), decoded by wire/call.ts
 *   kind 0x04          retired: a retry by host time ("everything since"), never honoured (P36)
 *   kind 0x05 retry:   u16 count (1..MAX_RETRY_REFS) || count x ref
 *                      "I could not decrypt these messages of yours; please send them again"
 *   kind 0x06 resent:  ref || text body (as kind 0x01): the message a retry named, sent again
 *   kind 0x07 profile key: key (32): the sender's current profile key (SECURITY.md P43), sent only
 *                      to people the sender writes to or accepted, again after every rotation
 *   kind 0x08 text with profile key: key (32) || text body (as kind 0x01): a text that also shares
 *                      the sender's profile key, so the first message to someone costs no extra
 *                      envelope the host could count
 *   kind 0x09 group:   u32-length group update (1..MAX_GROUP_UPDATE_BYTES), decoded by wire/group-content.ts
 *   kind 0x0A reaction: target id (16) || u8-length emoji (0..MAX_REACTION_BYTES UTF-8 bytes, one
 *                      emoji grapheme; empty = "I take my reaction back"); replaces the sender's last
 *   kind 0x0B edit:    target id (16) || sentAt u64 (sender clock of the edit) || u32-length UTF-8
 *                      text (1..MAX_TEXT_BYTES): the new text of the sender's own message
 *   kind 0x0C delete:  target id (16) [|| withdrawn ref (32 || u32)]: "delete for everyone" of the
 *                      sender's own message; the ref, when the message's encryption never left the
 *                      sender (its ratchet header, refs.ts), lets the receiver drop the gap marker
 *                      the missing message number would leave (P14: the sender says why it is missing)
 *   kind 0x0D text with quote: quote id (16) || text body (as kind 0x01): a reply
 *   kind 0x0E text with quote and profile key: key (32) || quote id (16) || text body
 *   A reply is a new kind, not a flag inside 0x01, so a client that knows only 0x01 answers
 *   UnsupportedVersion instead of showing a reply as an unrelated text.
 *   0x0A..0x0C name their target by its 16-byte content id only, never by host data (server id,
 *   arrival order): the receiver resolves it under the AUTHENTICATED sender of the envelope, so
 *   only that message's author can edit or delete it (README "Message actions", P47).
 *   kind 0x10 attachment: a file's blob id, key, digest, size, allow-listed type, name, thumbnail
 *                      and caption (wire/attachment-content.ts)
 *   kind 0x11 timer:   the chat's disappearing timer changed (wire/disappearing-content.ts, P44)
 *   kind 0x12 expiring: timer u32 || a text or attachment content without its version byte: a
 *                      message sent under that timer (wire/disappearing-content.ts, P44)
 *   kind 0x13 timed:   timer u32 (0 = off) || setAt u64 || the same: a message sent under the
 *                      chat's timer setting made at setAt (wire/disappearing-content.ts, P44)
 *   kind 0x14 typing:  action u8 (1 started, 2 stopped) || sentAt u64 (wire/typing-content.ts); never stored
 *   kind 0x15 group receipt: groupId (32) || receipt type u8 || u16 count || count x id (16), to the
 *                      group message's sender only (wire/group-receipt-content.ts)
 *   ref = ratchet key (32) || n u32: a message named by its Double Ratchet header, which the
 *         receiver reads even from an envelope it cannot decrypt (DESIGN.md §7, SECURITY.md P36)
 *
 * A kind we do not know yet is UnsupportedVersion (a newer client), never a silent drop of bytes.
 * Knows nothing of sessions, storage or who sent it.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter, fromHex, toHex } from '../codec/bytes';
import { readAttachment, writeAttachment, type AttachmentContent } from './attachment-content';
import { readExpiring, readTimed, readTimer, writeTimed, writeTimer, checkTimer, type TimerContent, type TimerSeconds } from './disappearing-content';
import { readTyping, writeTyping, type TypingContent } from './typing-content';
import { readGroupReceipt, writeGroupReceipt, type GroupReceiptContent } from './group-receipt-content';

export type { AttachmentContent } from './attachment-content';
export type { TypingContent } from './typing-content';
export type { GroupReceiptContent } from './group-receipt-content';

export const CONTENT_VERSION = 1;
export const ContentKind = { text: 0x01, receipt: 0x02, call: 0x03, retry: 0x05, resent: 0x06, profileKey: 0x07, textWithProfileKey: 0x08, group: 0x09, reaction: 0x0a, edit: 0x0b, delete: 0x0c, textWithQuote: 0x0d, textWithQuoteAndProfileKey: 0x0e, attachment: 0x10, timer: 0x11, expiring: 0x12, timed: 0x13, typing: 0x14, groupReceipt: 0x15 } as const;
/** The retired retry by time (P36): refused, never honoured. */
const RETIRED_RETRY_KIND = 0x04;
export const ReceiptType = { delivered: 0x01, read: 0x02 } as const;

/** Message ids are 16 random bytes, shown as 32 lowercase hex characters. */
export const MESSAGE_ID_LEN = 16;
/** Longest text body, in UTF-8 bytes (well under the 256 KiB padded limit). */
export const MAX_TEXT_BYTES = 64 * 1024;
/** Most message ids one receipt may acknowledge. */
export const MAX_RECEIPT_IDS = 500;
/** Most messages one retry request may name (P36: a request is bounded by what it names). */
export const MAX_RETRY_REFS = 50;
/** Bytes of a ratchet public key in a ref. */
export const REF_KEY_LEN = 32;

/** `quote`: the content id of the message this replies to (kinds 0x0D/0x0E). */
/**
 * `expireTimer`: the disappearing timer it was sent under; `timerSetAt`: when the sender's chat
 * setting was made (kind 0x13 around it; without it, 0x12 when a timer is on; P44).
 */
export type TextContent = { kind: 'text'; id: string; sentAt: number; text: string; profileKey?: Uint8Array; quote?: string; expireTimer?: TimerSeconds; timerSetAt?: number };
/** A file sent under a disappearing timer (kind 0x13 or 0x12 around kind 0x10, P44). */
export type ExpiringAttachment = AttachmentContent & { expireTimer?: TimerSeconds; timerSetAt?: number };
export type { TimerContent } from './disappearing-content';
/** A reaction to `target` (kind 0x0A); `emoji` '' takes the sender's reaction back. */
export type ReactionContent = { kind: 'reaction'; target: string; emoji: string };
/** The new text of the sender's own message `target` (kind 0x0B), written at `sentAt`. */
export type EditContent = { kind: 'edit'; target: string; sentAt: number; text: string };
/** Delete for everyone (kind 0x0C) of the sender's own message `target`. */
export type DeleteContent = { kind: 'delete'; target: string; withdrawn?: MessageRef };
/** Longest reaction, in UTF-8 bytes: one emoji grapheme (a family with skin tones is 25..35). */
export const MAX_REACTION_BYTES = 32;
export type ReceiptContent = { kind: 'receipt'; receipt: 'delivered' | 'read'; ids: string[] };
/** Call signalling (DESIGN.md §6): opaque here, strict in wire/call.ts; never stored as a message. */
export type CallContent = { kind: 'call'; signal: Uint8Array };
/** A message named by its ratchet header: the sender's ratchet public key and the message number. */
export type MessageRef = { ratchetKey: Uint8Array; n: number };
/** Retry request (DESIGN.md §7, P36): the messages that did not decrypt, each named by its header. */
export type RetryContent = { kind: 'retry'; missing: MessageRef[] };
/** A text sent again for a retry: the same id and time, and the ref the request named. */
export type ResentContent = Omit<TextContent, 'kind'> & { kind: 'resent'; ref: MessageRef };
/** The sender's profile key (P43): whoever holds it finds and reads the sender's profile blob. */
export type ProfileKeyContent = { kind: 'profileKey'; key: Uint8Array };
export type Content = TextContent | ReceiptContent | CallContent | RetryContent | ResentContent | ProfileKeyContent | GroupContent | ReactionContent | EditContent | DeleteContent | ExpiringAttachment | TimerContent | TypingContent | GroupReceiptContent;
/** Bytes of a profile key (src/lib/crypto/profile.ts PROFILE_KEY_LEN). */
export const CONTENT_PROFILE_KEY_LEN = 32;
/** A group update (README "Groups"): opaque here, strict in wire/group-content.ts; never stored as a message. */
export type GroupContent = { kind: 'group'; update: Uint8Array };
/** Longest group update: a welcome with a full history stays under the ratchet's 256 KiB. */
export const MAX_GROUP_UPDATE_BYTES = 250 * 1024;
/** Longest call signal (an offer is 75 bytes). */
export const MAX_CALL_SIGNAL_BYTES = 512;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function idBytes(id: string): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(id)) fail('InvalidArgument', `message id of ${id.length} characters is not 32 hex digits`);
  return fromHex(id);
}

export function encodeContent(c: Content): Uint8Array {
  const w = new ByteWriter().u8(CONTENT_VERSION);
  if ((c.kind === 'text' || c.kind === 'attachment') && c.timerSetAt !== undefined) {
    const { expireTimer, timerSetAt, ...inner } = c;
    const body = encodeContent(inner);
    return writeTimed(w.u8(ContentKind.timed), { seconds: expireTimer ?? 0, setAt: timerSetAt }).raw(body.subarray(1)).finish();
  }
  if ((c.kind === 'text' || c.kind === 'attachment') && c.expireTimer !== undefined && c.expireTimer !== 0) {
    const { expireTimer, ...inner } = c;
    const body = encodeContent(inner);
    return w.u8(ContentKind.expiring).u32(checkTimer(expireTimer, 'InvalidArgument')).raw(body.subarray(1)).finish();
  }
  if (c.kind === 'timer') return writeTimer(w.u8(ContentKind.timer), c).finish();
  if (c.kind === 'text' && c.quote !== undefined) {
    if (c.profileKey) writeProfileKey(w.u8(ContentKind.textWithQuoteAndProfileKey), c.profileKey);
    else w.u8(ContentKind.textWithQuote);
    return writeText(w.fixed(idBytes(c.quote), MESSAGE_ID_LEN), c).finish();
  }
  if (c.kind === 'reaction') {
    const emoji = encoder.encode(c.emoji);
    if (c.emoji !== '' && !isOneEmoji(c.emoji)) fail('InvalidArgument', `a reaction of ${emoji.length} bytes is not one emoji`);
    if (emoji.length > MAX_REACTION_BYTES) fail('InvalidArgument', `a reaction of ${emoji.length} bytes exceeds ${MAX_REACTION_BYTES}`);
    return w.u8(ContentKind.reaction).fixed(idBytes(c.target), MESSAGE_ID_LEN).u8(emoji.length).raw(emoji).finish();
  }
  if (c.kind === 'edit') {
    if (c.text.length === 0) fail('InvalidArgument', 'an edit to an empty text');
    return writeText(w.u8(ContentKind.edit), { id: c.target, sentAt: c.sentAt, text: c.text }).finish();
  }
  if (c.kind === 'delete') {
    w.u8(ContentKind.delete).fixed(idBytes(c.target), MESSAGE_ID_LEN);
    return (c.withdrawn ? writeRef(w, c.withdrawn) : w).finish();
  }
  if (c.kind === 'text' && c.profileKey) return writeText(writeProfileKey(w.u8(ContentKind.textWithProfileKey), c.profileKey), c).finish();
  if (c.kind === 'text') return writeText(w.u8(ContentKind.text), c).finish();
  if (c.kind === 'resent') return writeText(writeRef(w.u8(ContentKind.resent), c.ref), c).finish();
  if (c.kind === 'receipt') {
    if (c.ids.length < 1 || c.ids.length > MAX_RECEIPT_IDS) {
      fail('InvalidArgument', `receipt with ${c.ids.length} ids, expected 1..${MAX_RECEIPT_IDS}`);
    }
    w.u8(ContentKind.receipt).u8(ReceiptType[c.receipt]).u16(c.ids.length);
    for (const id of c.ids) w.fixed(idBytes(id), MESSAGE_ID_LEN);
    return w.finish();
  }
  if (c.kind === 'call') {
    if (c.signal.length < 1 || c.signal.length > MAX_CALL_SIGNAL_BYTES) fail('InvalidArgument', `call signal of ${c.signal.length} bytes`);
    return w.u8(ContentKind.call).bytes16(c.signal).finish();
  }
  if (c.kind === 'group') {
    if (c.update.length < 1 || c.update.length > MAX_GROUP_UPDATE_BYTES) fail('InvalidArgument', `group update of ${c.update.length} bytes`);
    return w.u8(ContentKind.group).bytes32(c.update).finish();
  }
  if (c.kind === 'retry') {
    if (c.missing.length < 1 || c.missing.length > MAX_RETRY_REFS) {
      fail('InvalidArgument', `retry naming ${c.missing.length} messages, expected 1..${MAX_RETRY_REFS}`);
    }
    w.u8(ContentKind.retry).u16(c.missing.length);
    for (const ref of c.missing) writeRef(w, ref);
    return w.finish();
  }
  if (c.kind === 'profileKey') return writeProfileKey(w.u8(ContentKind.profileKey), c.key).finish();
  if (c.kind === 'attachment') return writeAttachment(w.u8(ContentKind.attachment), c).finish();
  if (c.kind === 'typing') return writeTyping(w.u8(ContentKind.typing), c).finish();
  if (c.kind === 'groupReceipt') return writeGroupReceipt(w.u8(ContentKind.groupReceipt), c, MAX_RECEIPT_IDS).finish();
  return fail('InvalidArgument', 'unknown content kind');
}

function writeText(w: ByteWriter, c: Omit<TextContent, 'kind'>): ByteWriter {
  const body = encoder.encode(c.text);
  if (body.length > MAX_TEXT_BYTES) fail('InvalidArgument', `text of ${body.length} bytes exceeds ${MAX_TEXT_BYTES}`);
  return w.fixed(idBytes(c.id), MESSAGE_ID_LEN).u64(c.sentAt).bytes32(body);
}

function writeProfileKey(w: ByteWriter, key: Uint8Array): ByteWriter {
  if (key.length !== CONTENT_PROFILE_KEY_LEN) fail('InvalidArgument', `profile key of ${key.length} bytes`);
  return w.fixed(key, CONTENT_PROFILE_KEY_LEN);
}

function writeRef(w: ByteWriter, ref: MessageRef): ByteWriter {
  if (!Number.isInteger(ref.n) || ref.n < 0 || ref.n > 0xffff_ffff) fail('InvalidArgument', `message number ${ref.n} is not a u32`);
  return w.fixed(ref.ratchetKey, REF_KEY_LEN).u32(ref.n);
}

function readText(r: ByteReader): Omit<TextContent, 'kind'> {
  const id = toHex(r.fixed(MESSAGE_ID_LEN));
  const sentAt = r.u64();
  const raw = r.bytes32(MAX_TEXT_BYTES);
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    fail('DecodeFailed', `text of ${raw.length} bytes is not UTF-8`);
  }
  return { id, sentAt, text };
}

function readRef(r: ByteReader): MessageRef {
  return { ratchetKey: r.fixed(REF_KEY_LEN).slice(), n: r.u32() };
}

/** True if `bytes` is a profile-key content, read from its header alone (no decode, for hot paths). */
export function isProfileKeyContent(bytes: Uint8Array): boolean {
  return bytes[0] === CONTENT_VERSION && bytes[1] === ContentKind.profileKey;
}

export function decodeContent(bytes: Uint8Array): Content {
  const r = new ByteReader(bytes, 'content');
  const version = r.u8();
  if (version !== CONTENT_VERSION) fail('UnsupportedVersion', `content version ${version}`);
  const kind = r.u8();
  if (kind === ContentKind.text) {
    const t = readText(r);
    r.end();
    return { kind: 'text', ...t };
  }
  if (kind === ContentKind.textWithProfileKey) {
    const profileKey = r.fixed(CONTENT_PROFILE_KEY_LEN).slice();
    const t = readText(r);
    r.end();
    return { kind: 'text', ...t, profileKey };
  }
  if (kind === ContentKind.resent) {
    const ref = readRef(r);
    const t = readText(r);
    r.end();
    return { kind: 'resent', ref, ...t };
  }
  if (kind === ContentKind.receipt) {
    const t = r.u8();
    const receipt = t === ReceiptType.delivered ? 'delivered' : t === ReceiptType.read ? 'read' : fail('DecodeFailed', `receipt type ${t}`);
    const count = r.u16();
    if (count < 1 || count > MAX_RECEIPT_IDS) fail('DecodeFailed', `receipt with ${count} ids`);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(toHex(r.fixed(MESSAGE_ID_LEN)));
    r.end();
    return { kind: 'receipt', receipt, ids };
  }
  if (kind === ContentKind.call) {
    const signal = r.bytes16(MAX_CALL_SIGNAL_BYTES).slice();
    r.end();
    if (signal.length < 1) fail('DecodeFailed', 'empty call signal');
    return { kind: 'call', signal };
  }
  if (kind === ContentKind.retry) {
    const count = r.u16();
    if (count < 1 || count > MAX_RETRY_REFS) fail('DecodeFailed', `retry naming ${count} messages`);
    const missing: MessageRef[] = [];
    for (let i = 0; i < count; i++) missing.push(readRef(r));
    r.end();
    return { kind: 'retry', missing };
  }
  if (kind === ContentKind.profileKey) {
    const key = r.fixed(CONTENT_PROFILE_KEY_LEN).slice();
    r.end();
    return { kind: 'profileKey', key };
  }
  if (kind === ContentKind.group) {
    const update = r.bytes32(MAX_GROUP_UPDATE_BYTES).slice();
    r.end();
    if (update.length < 1) fail('DecodeFailed', 'empty group update');
    return { kind: 'group', update };
  }
  if (kind === ContentKind.attachment) return readAttachment(r);
  if (kind === ContentKind.typing) return readTyping(r);
  if (kind === ContentKind.groupReceipt) return readGroupReceipt(r, MAX_RECEIPT_IDS);
  if (kind === ContentKind.textWithQuote || kind === ContentKind.textWithQuoteAndProfileKey) {
    const profileKey = kind === ContentKind.textWithQuoteAndProfileKey ? r.fixed(CONTENT_PROFILE_KEY_LEN).slice() : undefined;
    const quote = toHex(r.fixed(MESSAGE_ID_LEN));
    const t = readText(r);
    r.end();
    return { kind: 'text', ...t, ...(profileKey ? { profileKey } : {}), quote };
  }
  if (kind === ContentKind.reaction) {
    const target = toHex(r.fixed(MESSAGE_ID_LEN));
    const size = r.u8();
    if (size > MAX_REACTION_BYTES) fail('DecodeFailed', `a reaction of ${size} bytes exceeds ${MAX_REACTION_BYTES}`);
    const raw = r.fixed(size);
    r.end();
    let emoji: string;
    try {
      emoji = decoder.decode(raw);
    } catch {
      return fail('DecodeFailed', `a reaction of ${raw.length} bytes is not UTF-8`);
    }
    if (emoji !== '' && !isOneEmoji(emoji)) fail('DecodeFailed', `a reaction of ${raw.length} bytes is not one emoji`);
    return { kind: 'reaction', target, emoji };
  }
  if (kind === ContentKind.edit) {
    const t = readText(r);
    r.end();
    if (t.text.length === 0) fail('DecodeFailed', 'an edit to an empty text');
    return { kind: 'edit', target: t.id, sentAt: t.sentAt, text: t.text };
  }
  if (kind === ContentKind.delete) {
    const target = toHex(r.fixed(MESSAGE_ID_LEN));
    const withdrawn = r.remaining > 0 ? readRef(r) : undefined;
    r.end();
    return { kind: 'delete', target, ...(withdrawn ? { withdrawn } : {}) };
  }
  if (kind === ContentKind.timer) return readTimer(r);
  if (kind === ContentKind.expiring) {
    const expireTimer = readExpiring(r);
    return { ...wrapped(r), expireTimer };
  }
  if (kind === ContentKind.timed) {
    const { seconds, setAt } = readTimed(r);
    return { ...wrapped(r), ...(seconds === 0 ? {} : { expireTimer: seconds }), timerSetAt: setAt };
  }
  if (kind === RETIRED_RETRY_KIND) return fail('UnsupportedVersion', 'content kind 4 (a retry by time) is retired and never honoured');
  return fail('UnsupportedVersion', `content kind ${kind}`);
}

/** The text or attachment inside a 0x12 or 0x13 wrapper (never another wrapper). */
function wrapped(r: ByteReader): TextContent | AttachmentContent {
  const rest = r.fixed(r.remaining);
  const innerKind = rest[0];
  if (!EXPIRING_KINDS.has(innerKind ?? -1)) return fail('DecodeFailed', `an expiring message wraps content kind ${innerKind ?? 'none'}`);
  const whole = new Uint8Array(rest.length + 1);
  whole[0] = CONTENT_VERSION;
  whole.set(rest, 1);
  const inner = decodeContent(whole);
  if (inner.kind !== 'text' && inner.kind !== 'attachment') return fail('DecodeFailed', `an expiring message wraps a ${inner.kind}`);
  return inner;
}

/** What kinds 0x12 and 0x13 may wrap: the texts (with profile key, quote, both) and files; never a wrapper. */
const EXPIRING_KINDS = new Set<number>([ContentKind.text, ContentKind.textWithProfileKey, ContentKind.textWithQuote, ContentKind.textWithQuoteAndProfileKey, ContentKind.attachment]);

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** An emoji: a pictographic character, a flag's regional indicators or a keycap. */
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** True if `s` is exactly one grapheme and that grapheme is an emoji (a reaction, kind 0x0A). */
export function isOneEmoji(s: string): boolean {
  const it = graphemes.segment(s)[Symbol.iterator]();
  const first = it.next();
  return !first.done && first.value.segment === s && EMOJI.test(s);
}

/** A fresh random message id. */
export function newMessageId(rng: (n: number) => Uint8Array): string {
  return toHex(rng(MESSAGE_ID_LEN));
}

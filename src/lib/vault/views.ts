/**
 * The plain data the vault hands the screens (DESIGN.md §1: public data only — names, texts,
 * times, statuses, the public safety number; never key bytes). Written once: the engine builds
 * these from its records (workers/engine/views.ts), the screens render them. No view extends a
 * storage row, so storage may change without touching a component.
 *
 * `username` is always a person: in an account, our own; everywhere else, the person the chat
 * is with (a 1:1 chat is identified by that person's username).
 */
import type { AttachmentMime } from '../wire/attachment-content';
import type { Username } from '../codec/username';

export interface VaultInfo {
  version: number;
  /** libsodium's version string: proves the wasm module is loaded. */
  sodium: string;
}

export interface SelfTestReport {
  plaintext: string;
  ciphertextBytes: number;
  safety?: string;
}

export interface AccountView {
  username: Username;
  /** The account was restored on another browser; this one is signed out (DESIGN.md §7). */
  signedOut?: true;
}

export type Availability = { kind: 'available' } | { kind: 'taken' } | { kind: 'invalid'; reason: string };

export interface ChatView {
  username: Username;
  /** The chat's address segment (`/chat/<route>`): the username sealed under a vault key (P46). */
  route: string;
  lastPreview?: string;
  /** Milliseconds since the epoch of the last message. */
  lastAt?: number;
  unread: number;
  /** Messages known to be missing in this chat (a ratchet gap, P14); drops when one arrives late. */
  missing: number;
  verified: boolean;
  blocked: boolean;
  identityChanged: boolean;
  /** P42: a message request (they wrote first, not accepted): no receipts, no ringing, links inert. */
  request: boolean;
  /** Their display name and avatar from their private profile (P43), once they shared its key. */
  profile?: ProfileSummary;
  /** How the user filed the chat: pinned on top, muted (no notifications), archived (out of the list). */
  flags: ChatFlags;
  /** P44: the disappearing timer both sides agreed on, in seconds; 0 = off. */
  disappearing: number;
  /** The newest message is ours: how far it got (the row's ticks). */
  lastStatus?: MessageStatus;
}

export interface ChatFlags {
  pinned: boolean;
  muted: boolean;
  archived: boolean;
}

/** Privacy settings (P42; README "Typing indicators", "Read receipts"). */
export interface PrivacySettings {
  /** Calls ring only from people we wrote to or accepted. */
  callsOnlyFromContacts: boolean;
  /** P41: the host admits sealed messages without a delivery token (off by default). */
  sealedFromAnyone?: boolean;
  /** P29 "relay calls": a device preference the page keeps; mirrored so a PIN restore brings it back. */
  relayCalls?: boolean;
  /** What a notification shows (a device preference, mirrored like relayCalls). */
  notifications?: 'off' | 'name' | 'private';
  /** Off: we neither send typing notices nor show others' (as Signal). Default on. */
  typingIndicators: boolean;
  /** Off: we send no read receipts and keep none of others' (delivered still goes). Default on. */
  readReceipts: boolean;
}

/** What a chat row, header, call screen or notification shows beside the username (P43). */
export interface ProfileSummary {
  displayName: string;
  /** The avatar as the profile carries it: a JPEG the owner's browser re-encoded (no metadata). */
  avatar?: Uint8Array;
}

/** A private profile (P43): ours as we edit it, or a contact's as their profile key opens it. */
export interface ProfileView {
  displayName: string;
  about: string;
  avatar: Uint8Array | null;
}

/** Our profile as saved; `published`: the host has it (false: kept here, published on the next connect). */
export interface ProfileSaved {
  profile: ProfileView;
  published: boolean;
}

export const MessageStatus = {
  Queued: 'queued',
  Sent: 'sent',
  Delivered: 'delivered',
  Read: 'read',
  /** Held back: the contact is blocked or their changed safety number is not accepted yet. */
  Held: 'held',
  /** Not sent: the contact's safety number changed after it was written (P36); "send again" sends it to the new key. */
  KeyChanged: 'key-changed',
  Failed: 'failed'
} as const;
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

/**
 * A local notice's code (workers/engine/notices.ts, gaps.ts); unknown codes render as a generic
 * notice. `gap`: a message the ratchet shows missing (P14); `undecryptable`: one that arrived but
 * could not be read. Each stands for one message; adjacent ones are shown as one line.
 */
export type NoticeCode = 'identity-changed' | 'identity-accepted' | 'identity-rejected' | 'verified' | 'restored' | 'gap' | 'undecryptable' | (string & {});

export type MessageView =
  | {
      kind: 'text';
      id: string;
      username: Username;
      direction: 'in' | 'out';
      text: string;
      /** The sender's time (its place in the list may be later, P36). */
      at: number;
      /** Outgoing only: how far the message got. */
      status?: MessageStatus;
      /** Incoming only: it came under a changed safety number not accepted or verified yet (P3). */
      keyChanged?: true;
      /** Its place in the conversation (ties in `id` order); may differ from `at` (P36). */
      sortAt?: number;
      /** A file (README "Attachments"); `text` is then its caption. Never its key. */
      attachment?: AttachmentView;
      /** A reply: what it quotes; `text` is absent when that message is gone (deleted, P44). */
      quote?: QuoteView;
      /** Reactions, one per person, grouped by emoji in first-seen order. */
      reactions?: ReactionView[];
      /** The sender changed the text after sending it. */
      edited?: true;
      /** Deleted for everyone: `text` is empty. */
      deleted?: true;
    }
  | {
      /** A local notice in the conversation, rendered from its code (never from key bytes). */
      kind: 'notice';
      notice: NoticeCode;
      id: string;
      username: Username;
      at: number;
      /** Its place in the conversation (ties in `id` order). */
      sortAt?: number;
    };

/** What a conversation shows of a file: the allow-listed type decides image preview vs generic file. */
export interface AttachmentView {
  name: string;
  mime: AttachmentMime;
  size: number;
  /** A JPEG the sender's browser re-encoded (EXIF stripped), shown only as an image. */
  thumbnail?: Uint8Array;
}

/** A file the page hands the vault to send. */
export interface OutgoingFile {
  /** The file: a Blob (a picked File) is read in slices by the vault, never whole. */
  bytes: Uint8Array | Blob;
  name: string;
  /** The browser's claim; the vault keeps only an allow-listed type. */
  mime: string;
  thumbnail?: Uint8Array;
  caption?: string;
  /**
   * The page's id for the upload: its progress events, and a retry after a failure with the same
   * id (and a file of the same size) resumes the upload where the host is. One id, one file.
   */
  transfer: string;
}

/** A downloaded, checked and decrypted file (a Blob when it was streamed: the browser may keep it on disk). */
export interface OpenedFile {
  bytes: Uint8Array | Blob;
  mime: AttachmentMime;
  name: string;
}

/** The files kept in this browser for one conversation (README "Attachments": Manage storage). */
export interface FileStorageView {
  /** A 1:1 chat by the peer's username, or a group by its id. */
  place: FilePlaceView;
  files: number;
  /** Bytes on disk (each copy is the padded, encrypted blob). */
  bytes: number;
}
export type FilePlaceView = { kind: 'chat'; username: Username } | { kind: 'group'; id: string };

/** A file whose upload stopped with its tab before its message was sent (README "Attachments": unsent files). */
export interface UnsentFileView {
  /** Names it for dismissing. */
  id: string;
  name: string;
  /** Bytes of the file as picked. */
  size: number;
  /** When the upload started (ms). */
  at: number;
  /** A recorded voice message rather than a picked file. */
  voice: boolean;
  /** The host made its blob: attaching the same file again goes on from where the host is. */
  resumes: boolean;
}

/** The message a reply quotes (README "Message actions"). */
export interface QuoteView {
  /** The quoted message's id in this conversation. */
  id: string;
  direction: 'in' | 'out';
  /** Its current text; absent when it is not here (deleted for everyone or for me, never received). */
  text?: string;
  /** It was a disappearing message and is gone: shown as "Message expired" (P44). */
  expired?: true;
}

/** One emoji and how many people chose it; `mine` if we did. */
export interface ReactionView {
  emoji: string;
  count: number;
  mine: boolean;
}

/**
 * One version of an edited message (README "Message actions": edit history) and when it was
 * written (the sender's clock: the message's send time, or the edit that produced it).
 */
export interface EditVersionView {
  text: string;
  at: number;
}

/** A message's place in its conversation, from a MessageView: where the next older page starts. */
export interface MessageCursor {
  sortAt: number;
  id: string;
}

/** One page of a conversation (DESIGN.md §8: loaded in pages, newest first). */
export interface MessagePage {
  /** Oldest first. */
  messages: MessageView[];
  /** True if the conversation has messages before the first of `messages`. */
  older: boolean;
}

export interface ContactView {
  username: Username;
  /** 60 digits, no separators (the UI groups them), for the identity shown (the pending one if any). */
  safetyNumber: string;
  /** What the other side scans to verify us (opaque text, shown only as a QR code). */
  qrPayload: string;
  verified: boolean;
  /** Their identity key changed and the user has not acknowledged it yet. */
  identityChanged: boolean;
  /** A verified contact's key changed: sending waits until the user re-verifies, accepts or rejects (P2). */
  sendBlocked: boolean;
  blocked: boolean;
  /** A key change can be rejected (keeping the old key). */
  canReject: boolean;
  /** The user rejected a key presented for this contact; it is refused from then on (P36). */
  keyRejected: boolean;
  /** P42: a message request (they wrote first; not accepted): accept, delete or block. */
  request: boolean;
  /** P42: we wrote to them or accepted them (they hold our profile key); calls with anyone else go relay-only when TURN is offered. */
  accepted: boolean;
  /** Their private profile (P43), once they shared its key with us. */
  profile?: ProfileView;
}

/**
 * What the user compared before marking a contact verified (P3): the safety number they were
 * shown, or the code they scanned from the other person's screen. The vault recomputes it for the
 * key it would mark and refuses a mismatch (SafetyNumberMismatch).
 */
export type Comparison = { safetyNumber: string } | { scannedQr: string };

export type ConnectionState = 'connecting' | 'online' | 'offline';

export type VaultEvent =
  /** A message was stored in the chat with `username` (new, or a late one slotted into place). */
  | {
      type: 'message';
      username: Username;
      id: string;
      /** The message as stored now, when the event is about one message (not across tabs, not for markers). */
      message?: MessageView;
      /** The message is gone from this browser (deleted for me): the screen drops its row. */
      removed?: true;
    }
  | { type: 'status'; username: Username; id: string; status: MessageStatus }
  /** An envelope from `username` could not be read; only its code is known. */
  | { type: 'receive-error'; username: Username; code: string }
  | { type: 'chats' }
  | { type: 'identity'; username: Username }
  /** `username`'s profile (display name, about, avatar) changed; our own included (P43). */
  | { type: 'profile'; username: Username }
  | { type: 'connection'; state: ConnectionState }
  /** A call signal from `username`, decrypted; decoded and judged by the call controller. */
  /** `contact`: we wrote to or accepted them (P42); calls with anyone else go relay-only when TURN is offered. */
  | { type: 'call'; username: Username; signal: Uint8Array; contact: boolean }
  /** The account was restored on another browser: this one stops. */
  | { type: 'signed-out' }
  /** P46: the vault dropped its keys (Lock now, idle, another tab locked); only unlock answers. */
  | { type: 'locked' }
  /** P46: this tab's vault holds its keys again (never sent to other tabs). */
  | { type: 'unlocked' }
  /** P46: the app lock was turned on or off, or its settings changed. */
  | { type: 'lock-changed' }
  /** This account was signed out or removed from this browser: every tab stops. */
  | { type: 'removed' }
  /** A group's state or conversation changed (README "Groups"); `id` is the group id in hex. */
  | { type: 'group'; id: string }
  /** Upload or download progress of a file (README "Attachments"): bytes done of total. */
  | { type: 'transfer'; transfer: string; done: number; total: number }
  /** `username` started or stopped typing to us (README "Typing indicators"); never stored. */
  | { type: 'typing'; username: Username; typing: boolean };

/** The app lock's state (SECURITY.md P46): no secret, only what the lock screen and Settings show. */
export interface LockStatus {
  /** The lock is on: the vault key is stored only wrapped under the passphrase (and passkeys). */
  enabled: boolean;
  /** This tab's vault holds no key now. */
  locked: boolean;
  /** Auto-lock after this many idle minutes (0: never). */
  idleMinutes: number;
  /** Passkeys (WebAuthn PRF) that can unlock: what navigator.credentials.get needs, all public. */
  passkeys: { credentialId: Uint8Array; prfSalt: Uint8Array }[];
  /** The account's username (stored in the clear), for the lock screen. */
  username?: Username;
}

/** A lock passphrase judged against the P46 rule (zxcvbn estimate in the worker). */
export type LockPassphraseCheck = { ok: true } | { ok: false; reason: string };

export interface PinStatus {
  /** Recovery is on: a secret is registered and the account record is kept on the host. */
  enabled: boolean;
  /** 'pin' (short; only with independent realms), 'passphrase' or 'recoveryKey' (P38). */
  kind: 'pin' | 'passphrase' | 'recoveryKey' | null;
  /** P38: independent realms, so a short PIN is offered; else a passphrase or recovery key. */
  shortPinAllowed: boolean;
  reminderDue: boolean;
  nextReminderAt: number | null;
}

/** The acceptance rule's verdict on a new recovery secret (src/lib/crypto/pin/secret-policy.ts). */
export type PinStrength = { ok: true; kind: 'pin' | 'passphrase' | 'recoveryKey' } | { ok: false; reason: string };

/** Whether a recovery attempt spent a guess: 'no' only when no realm evaluated (P38). */
export type AttemptUsed = 'no' | 'maybe' | 'yes';

/** Why a recovery secret could not be used (workers/engine/pin/outcomes.ts, P38). */
export type RecoveryProblem =
  | { status: 'wrongPin'; remaining: number }
  /** Too many wrong guesses: the realms deleted their shares; this backup cannot be used. */
  | { status: 'destroyed' }
  /** No backup for this username (never set, or turned off). */
  | { status: 'notRegistered' }
  /** The realms make the next guess wait (growing delays after wrong guesses). */
  | { status: 'tooSoon'; retryAfterMs: number; attemptUsed: AttemptUsed }
  /** Realms' answers failed verification: the secret could not be tested; `realms` names them. */
  | { status: 'tampered'; realms: string[]; attemptUsed: AttemptUsed; remaining: number }
  | { status: 'unavailable'; attemptUsed: AttemptUsed };

export type RestoreOutcome =
  | {
      status: 'restored';
      username: Username;
      contacts: number;
      blocked: number;
      suspectRealms: string[];
      /** Groups back (P19), and those whose state on the host could not be fetched or trusted. */
      groups?: number;
      groupsMissing?: number;
    }
  | RecoveryProblem;

/** P37: a change needs the current secret, so it can fail like a recovery. */
export type PinChangeOutcome = { status: 'changed'; pin: PinStatus } | RecoveryProblem;

/** How the realms see this account's backup (P38 alerts and repair). */
export interface RecoveryHealth {
  realms: { name: string; state: 'registered' | 'destroyed' | 'none' | 'unreachable'; wrongGuesses: number; failingSince: number | null; retryAfterMs: number }[];
  /** Most wrong guesses any realm counted since the last correct one. */
  wrongGuesses: number;
  /** Earliest start of those runs (realm clock, ms). */
  failingSince: number | null;
  /** Realms that no longer hold a share while recovery is on. */
  lost: string[];
  /** True while at least t realms still hold the backup: entering the secret re-registers the rest. */
  repairable: boolean;
}

export const CallOutcome = ['completed', 'missed', 'declined', 'busy', 'cancelled', 'failed', 'unverified'] as const;
export type CallOutcome = (typeof CallOutcome)[number];

/** A call's entry in the conversation. */
export interface CallLogEntry {
  callId: string;
  direction: 'in' | 'out';
  media: 'audio' | 'video';
  outcome: CallOutcome;
  /** Connected time, 0 if the call never connected. */
  durationMs: number;
  /** When the call started ringing (ms). */
  at: number;
}

/**
 * How the call on screen ends if the vault locks under it (README "Calls and the lock"): armed by
 * the page at each phase, carried out by the worker before its keys go. `signal` is an encoded
 * hang-up or cancel (wire/call.ts), absent for a call still ringing here (P42: a lock answers
 * nothing); `entry` is the conversation entry, its duration counted from `connectedAt` at the lock.
 */
export interface CallEnding {
  signal?: Uint8Array;
  entry: CallLogEntry;
  connectedAt?: number;
}

export interface IceServers {
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  expiresAt: number | null;
}

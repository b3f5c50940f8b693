/**
 * The plain data the screens render, as it crosses the vault boundary (DESIGN.md §1: public data
 * only — names, texts, times, statuses, the public safety number; never key bytes).
 *
 * These mirror the engine's view types (workers/engine); the UI imports them from here so that no
 * component reaches into the worker's modules.
 */

export interface AccountView {
  username: string;
  /** The account was restored on another browser; this one is signed out (issue 5). */
  signedOut?: true;
}

export type Availability =
  | { kind: 'available' }
  | { kind: 'taken' }
  | { kind: 'invalid'; reason: string };

export interface ChatView {
  /** The contact's username; a chat is always 1:1 for now. */
  username: string;
  lastPreview?: string;
  /** Milliseconds since the epoch of the last message. */
  lastAt?: number;
  unread: number;
  blocked: boolean;
  identityChanged: boolean;
}

export const MessageStatus = {
  Queued: 'queued',
  Sent: 'sent',
  Delivered: 'delivered',
  Read: 'read',
  /** Held back: the contact is blocked or their changed safety number is not accepted yet. */
  Held: 'held',
  Failed: 'failed'
} as const;
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

export type MessageView =
  | {
      kind: 'text';
      id: string;
      chat: string;
      direction: 'in' | 'out';
      text: string;
      at: number;
      /** Outgoing only: how far the message got. */
      status?: MessageStatus;
    }
  | {
      /** A local notice in the conversation, rendered from its code (never from key bytes). */
      kind: 'notice';
      notice: NoticeCode;
      id: string;
      chat: string;
      at: number;
    };

/** workers/engine/notices.ts NoticeKind; unknown codes render as a generic notice. */
export type NoticeCode = 'identity-changed' | 'identity-accepted' | 'verified' | (string & {});

export interface ContactView {
  username: string;
  /** 60 digits; any separators are ignored when it is shown in 12 groups of 5. */
  safetyNumber: string;
  /** What the other side scans to verify us (opaque text, shown only as a QR code). */
  qrPayload: string;
  verified: boolean;
  /** Their identity key changed and the user has not acknowledged it yet. */
  identityChanged: boolean;
  /** A verified contact's key changed: sending waits until the user re-verifies or accepts. */
  sendBlocked: boolean;
  blocked: boolean;
}

export const ConnectionState = {
  Connecting: 'connecting',
  Online: 'online',
  Offline: 'offline'
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export type VaultEvent =
  /** A message was stored in `chat` (new, or a late one slotted into place). */
  | { type: 'message'; chat: string; id: string }
  | { type: 'status'; chat: string; id: string; status: MessageStatus }
  /** An envelope from `sender` could not be read; only its code is known. */
  | { type: 'receive-error'; sender: string; code: string }
  | { type: 'chats' }
  | { type: 'identity'; username: string }
  | { type: 'connection'; state: ConnectionState }
  /** A call signal from `chat`, decrypted; decoded and judged by the call controller. */
  | { type: 'call'; chat: string; signal: Uint8Array }
  /** The account was restored on another browser: this one stops (issue 5). */
  | { type: 'signed-out' };

/** PIN recovery state (issue 5). */
export interface PinStatus {
  enabled: boolean;
  reminderDue: boolean;
  nextReminderAt: number | null;
}

export type PinStrength = { ok: true } | { ok: false; reason: string };

/** What one restore attempt came to (workers/engine/pin/restore.ts). */
export type RestoreOutcome =
  | { status: 'restored'; username: string; contacts: number; blocked: number }
  | { status: 'wrongPin'; remaining: number }
  | { status: 'destroyed' }
  | { status: 'notRegistered' }
  | { status: 'unavailable' };

/** A call's entry in the conversation (workers/engine/calls.ts). */
export interface CallLogEntry {
  callId: string;
  direction: 'in' | 'out';
  media: 'audio' | 'video';
  outcome: 'completed' | 'missed' | 'declined' | 'busy' | 'cancelled' | 'failed' | 'unverified';
  durationMs: number;
  at: number;
}

export interface IceServers {
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  expiresAt: number | null;
}

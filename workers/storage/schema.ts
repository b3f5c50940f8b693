/**
 * The vault's IndexedDB schema (DESIGN.md §8), versioned with an explicit upgrade per version.
 *
 * One database per account name. Nothing secret is stored in the clear (P32):
 *  - keys (identity, prekeys) are `Sealed` with AES-GCM under the non-extractable wrapping key
 *    (seal.ts);
 *  - session state (a small head row per contact plus one row per bucket of skipped message
 *    keys, session-repo.ts) and user data (message bodies, chat previews, outbox content,
 *    contacts' private fields) are sealed with the vault's data key (record-seal.ts), itself
 *    sealed under the wrapping key. The `*Record` types are what the engine reads and writes;
 *    the `*Row` types are what IndexedDB holds — the repositories convert.
 * What stays clear is what indexes and keys need: usernames, ids, times, statuses, counters, and
 * identity PUBLIC keys. Knows nothing of crypto protocols or the host.
 */
import type { AttachmentContent } from '../../src/lib/wire/attachment-content';
import type { Username } from '../../src/lib/codec/username';
import { openDB, unwrap, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';

export const DB_VERSION = 7;

/**
 * Meta keys. `migrateRows` is set by the v1 -> v2 upgrade and cleared once rows are sealed;
 * `migrateSessions` by the upgrade to v3, cleared once the v1–v2 session rows are converted.
 */
export const Meta = {
  wrapKey: 'wrapKey',
  dataKey: 'dataKey',
  account: 'account',
  identity: 'identity',
  migrateRows: 'migrateRows',
  migrateSessions: 'migrateSessions',
  /** Set by the upgrade to v7: pictures still inside contact rows move out (vault.ts `moveAvatarsIfMarked`). */
  moveAvatars: 'moveAvatars'
} as const;

/** A ciphertext and its nonce: AES-GCM (12-byte IV, seal.ts) or XChaCha20-Poly1305 (24, record-seal.ts). */
export interface Sealed {
  iv: Uint8Array;
  ct: Uint8Array;
}

export interface AccountRecord {
  username: Username;
  createdAt: number;
  /** True once the host accepted the registration. */
  registered: boolean;
  /** Next free prekey ids (ids are never reused). */
  nextOneTimeId: number;
  nextKemId: number;
  nextSignedId: number;
}

export type PreKeyKind = 'signed' | 'oneTime' | 'kem';
export interface PreKeyRecord {
  key: string; // `${kind}:${id}`
  kind: PreKeyKind;
  id: number;
  lastResort: boolean;
  createdAt: number;
  sealed: Sealed;
}

/**
 * One contact's sessions (schema v3, session-repo.ts): their heads (the sessions without skipped
 * message keys), current first, and the list of their skipped-key rows, as one sealed value.
 */
export interface SessionRow {
  /** Their username. */
  username: Username;
  sealed: Sealed;
}

/** One bucket of one session's skipped message keys (session-repo.ts names the key). */
export interface SkippedKeysRow {
  key: string;
  sealed: Sealed;
}

/** Schema v1–v2: every session whole, each sealed under the wrapping key (read once, by session-migrate.ts). */
export interface LegacySessionRow {
  username: Username;
  /** Current session first, then older ones. */
  sealed: Sealed[];
}

export interface ContactRecord {
  username: Username;
  /** Encoded IdentityPublic we trust for sending. */
  identity: Uint8Array;
  verified: boolean;
  blocked: boolean;
  /** A different identity seen (bundle or prekey message) that the user has not accepted yet. */
  pendingIdentity?: Uint8Array;
  /** True after a key change until the user accepts, verifies or rejects it (P3). */
  identityChanged: boolean;
  /** Hex of the identity an unverified contact had before its last change, so "reject" can restore it. */
  previousIdentity?: string;
  /** Hex of an identity the user rejected: nothing is sent to it and its messages are refused (P36). */
  rejectedIdentity?: string;
  /** Their profile key (P43), base64url, as they last shared it inside the ratchet; their delivery token derives from it (P41). */
  profileKey?: string;
  /** Their profile as that key last opened it (P43); the avatar as base64url. */
  profile?: { displayName: string; about: string; avatar?: string };
  /** Fingerprint of OUR profile key as last shared with them (profile-key.ts): a rotation re-shares. */
  sharedKey?: string;
  /** P42: they wrote first and the user has neither written to them nor accepted: a message request. */
  request?: boolean;
}

export interface ChatRecord {
  /** The person the chat is with (a 1:1 chat is identified by their username). */
  username: Username;
  lastPreview: string;
  lastAt: number;
  unread: number;
  /** Messages known to be missing (a ratchet gap, P14); decremented when one arrives late. */
  missing: number;
  /** How the user filed it (chat-flags.ts); absent = off. */
  pinned?: true;
  muted?: true;
  archived?: true;
  /** The disappearing timer in seconds (P44, disappearing.ts); absent = off. Clear, like the flags. */
  disappearing?: number;
  /** The sender clock of the change that set it: a change made earlier never overrides it. */
  disappearingSetAt?: number;
  /** Deleted by the user (chat-delete.ts): left out of the list until a message comes or goes (chat-repo.ts updateChat). */
  cleared?: true;
}

/** Outgoing: queued -> sent -> delivered -> read; `blocked` = held back (untrusted key, blocked
 * contact), `failed` = the host refused it for good (no such user), `stale` = not sent because the
 * contact's identity changed after it was written (P36: only "send again" sends it, to the new
 * key). Incoming: `received`. */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'received' | 'blocked' | 'failed' | 'stale';
export interface MessageRecord {
  /** Outgoing: the content id; incoming: `${sender}:${content id}` (the dedupe key, P13). */
  key: string;
  id: string;
  /** The person the chat is with. */
  username: Username;
  direction: 'out' | 'in' | 'system';
  body: string;
  sentAt: number;
  receivedAt: number;
  status: MessageStatus;
  serverId?: string;
  /** Incoming only: true once read locally (and a read receipt queued). */
  read?: boolean;
  /** Outgoing only: the encoded identity it was written for; it is never encrypted to another (P36). */
  identity?: Uint8Array;
  /** Outgoing only: `${ratchet key hex}:${n}` of its latest encryptions, so a retry can name it (P36). */
  sentVia?: string[];
  /** Incoming only: the sender's own timestamp when `sentAt` (the sort key) had to be moved (P36). */
  claimedAt?: number;
  /** Incoming only: it came under a changed identity the user has not accepted or verified (P3). */
  keyChanged?: boolean;
  /** A file (README "Attachments"): its key, digest and blob id, sealed with the body (P32). */
  attachment?: AttachmentContent;
  /** Replies, reactions, edits and deletes (README "Message actions"); sealed with the body. */
  extras?: MessageExtras;
  /** P44: the disappearing timer (seconds) it was sent under (disappearing.ts). */
  expireTimer?: number;
  /** P44: when it is removed (ms, our clock): set at sending, or when it was first read. Clear, for the sweep (expiry.ts). */
  expiresAt?: number;
}

/**
 * What message actions add to a message, sealed in the same value as its body (message-repo.ts),
 * so a reaction or an edit rewrites that one row and the data key rotation (P46) re-seals it with
 * the row: no new store, no schema step.
 */
export interface MessageExtras {
  /** A reply: the local key of the message it quotes (its text is looked up when shown, P44). */
  quote?: string;
  /** One emoji per person; ours under '' (no username is empty). */
  reactions?: Record<string, string>;
  /** Earlier texts, oldest first, at most MAX_EDIT_HISTORY (message-actions.ts). */
  history?: { text: string; at: number }[];
  /** The sender clock of the last edit applied: an older edit arriving late is ignored. */
  editedAt?: number;
  /** Deleted for everyone: the body is empty and no earlier text, quote or reaction is kept (P44). */
  deleted?: true;
  /** The quoted message disappears (P44): once it is gone the reply shows "message expired". */
  quoteExpires?: true;
}

export interface OutboxRecord {
  seq?: number;
  /** The person it goes to. */
  username: Username;
  /** Encoded Content (before encryption). Cleared once ciphertext exists. */
  content?: Uint8Array;
  /** Session ciphertext, written in the same transaction as the advanced session. */
  ciphertext?: Uint8Array;
  /** The message this sends, if any (receipts have none). */
  messageKey?: string;
  /** A resend of this message for a retry request (P36): its status is not touched. */
  resendOf?: string;
  /** The only encoded identity this item may be encrypted to (P36); any other session drops it. */
  identity?: Uint8Array;
}

// Rows are the on-disk format, so their field names are frozen by the indexes and key paths
// created in schema v1 (`chatId`, `id`, `to`); the repositories map them to the records' names.
// A row holds a username the engine canonicalised before writing it, so reading it back as a
// Username is sound.

/** Stored form of a MessageRecord: the body sealed; the person under `chatId` (index byChat). */
export type MessageRow = Omit<MessageRecord, 'body' | 'username' | 'attachment' | 'extras'> & {
  chatId: Username;
  sealed: Sealed;
};
/** Stored form of a ChatRecord: the preview sealed; the person under `id` (the key path). */
export type ChatRow = Omit<ChatRecord, 'lastPreview' | 'username'> & { id: Username; sealed: Sealed };
/** Stored form of a ContactRecord: username and identity keys clear, every other field sealed. */
export type ContactRow = Pick<ContactRecord, 'username' | 'identity' | 'pendingIdentity'> & { sealed: Sealed };
/** A contact's cached profile picture (contact-repo.ts), sealed, in a row of its own so reading contacts does not read pictures. */
export interface AvatarRow {
  username: string;
  sealed: Sealed;
}
/** Stored form of an OutboxRecord: the not-yet-encrypted content sealed; the person under `to`. */
export type OutboxRow = Omit<OutboxRecord, 'content' | 'username'> & { to: Username; sealed?: Sealed };

export interface FailureRecord {
  seq?: number;
  sender: Username;
  serverId: string;
  code: string;
  at: number;
}

/**
 * This browser's copy of a file (file-repo.ts): parts by blob offset, at -1 the mark of a complete
 * copy, and at -2, while a download has not finished, what it is a download of (so a later open
 * resumes it).
 */
export interface FileMark {
  owner: string;
  at: -1;
  blobId: string;
  total: number;
  /** Our release reached the host, or there was none to send (our own upload). */
  released: boolean;
  /** The user removed the copy to free space (file-usage.ts): its parts are gone, the message stays. */
  removed?: true;
}
export interface FilePart {
  owner: string;
  at: number;
  bytes: Uint8Array;
}
/** A download not finished yet: its parts so far are kept for the next open to resume (file-repo.ts). */
export interface FileResume {
  owner: string;
  at: -2;
  blobId: string;
  total: number;
}
export type FileRow = FileMark | FileResume | FilePart;

/** A bucket of the search index (search-repo.ts): its id clear, its entries sealed. */
export interface SearchRow {
  id: string;
  sealed: Sealed;
}

/** A group (group-repo.ts): everything but its id sealed (history, keys, preview, counters). */
export interface GroupRow {
  /** Hex of the 32-byte group id. */
  id: string;
  lastAt: number;
  sealed: Sealed;
}

/** A group conversation entry: sender and body sealed; `groupId` and `sentAt` clear for the index. */
export interface GroupMessageRow {
  /** Outgoing: `${groupId}:${content id}`; incoming: `${groupId}:${sender}:${content id}` (dedupe, P13). */
  key: string;
  groupId: string;
  sentAt: number;
  sealed: Sealed;
}

export interface VaultSchema extends DBSchema {
  meta: { key: string; value: unknown };
  prekeys: { key: string; value: PreKeyRecord; indexes: { byKind: PreKeyKind } };
  sessions: { key: string; value: SessionRow };
  skippedKeys: { key: string; value: SkippedKeysRow };
  legacySessions: { key: string; value: LegacySessionRow };
  contacts: { key: string; value: ContactRow };
  chats: { key: string; value: ChatRow; indexes: { byLastAt: number } };
  messages: { key: string; value: MessageRow; indexes: { byChat: [string, number] } };
  outbox: { key: number; value: OutboxRow };
  failures: { key: number; value: FailureRecord };
  groups: { key: string; value: GroupRow; indexes: { byLastAt: number } };
  groupMessages: { key: string; value: GroupMessageRow; indexes: { byGroup: [string, number] } };
  searchIndex: { key: string; value: SearchRow };
  files: { key: [string, number]; value: FileRow };
  avatars: { key: string; value: AvatarRow };
}

export type VaultDb = IDBPDatabase<VaultSchema>;

/** An open vault (vault.ts opens it): the database plus its keys. */
export interface Vault {
  db: VaultDb;
  /** The non-extractable wrapping key (for a lost vault, a throw-away key that opens nothing). */
  key: CryptoKey;
  name: string;
  /** Why the vault is unusable (P33); set only while it is. A reason, never data. */
  lost?: string;
  /** The app lock is on and not unlocked (P46, app-lock-repo.ts): no key of this vault is held. */
  locked?: true;
  /** The origin's Web Locks, shared by every tab's vault worker (copy-lock.ts); none in a browser without them. */
  locks?: VaultLocks;
}

/** The part of Web Locks' LockManager the vault uses; the callback gets null when not granted. */
export interface VaultLocks {
  request(name: string, options: { mode: 'exclusive' | 'shared'; ifAvailable?: boolean }, callback: (lock: unknown) => Promise<void>): Promise<void>;
}
export type Store = StoreNames<VaultSchema>;
export type Tx<S extends Store[] = Store[]> = IDBPTransaction<VaultSchema, S, 'readwrite'>;

/** Every store, for the few transactions that commit across all of them. */
export const ALL_STORES: Store[] = ['meta', 'prekeys', 'sessions', 'skippedKeys', 'legacySessions', 'contacts', 'chats', 'messages', 'outbox', 'failures', 'groups', 'groupMessages', 'searchIndex', 'files', 'avatars'];

export function openVault(name: string): Promise<VaultDb> {
  return openDB<VaultSchema>(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      // Version 1: the initial layout. Later versions add a branch each, never rewrite this one.
      if (oldVersion < 1) {
        db.createObjectStore('meta');
        db.createObjectStore('prekeys', { keyPath: 'key' }).createIndex('byKind', 'kind');
        db.createObjectStore('sessions', { keyPath: 'username' });
        db.createObjectStore('contacts', { keyPath: 'username' });
        db.createObjectStore('chats', { keyPath: 'id' }).createIndex('byLastAt', 'lastAt');
        db.createObjectStore('messages', { keyPath: 'key' }).createIndex('byChat', ['chatId', 'sentAt']);
        db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        db.createObjectStore('failures', { keyPath: 'seq', autoIncrement: true });
      }
      // Version 2 (P32): user data is sealed. Sealing needs the data key, which only opens with
      // async WebCrypto — impossible inside this versionchange transaction — so the upgrade only
      // marks the clear rows; loadVault seals them in its first transaction (migrate.ts).
      if (oldVersion === 1) void tx.objectStore('meta').put(true, Meta.migrateRows);
      // Version 3: sessions are a small head row plus skipped-key rows, sealed with the data key
      // (session-repo.ts). The v1–v2 store is renamed, not read here (its rows open only with
      // async WebCrypto); loadVault converts them in one transaction (session-migrate.ts).
      if (oldVersion < 3) {
        unwrap(tx.objectStore('sessions')).name = 'legacySessions';
        db.createObjectStore('sessions', { keyPath: 'username' });
        db.createObjectStore('skippedKeys', { keyPath: 'key' });
        if (oldVersion >= 1) void tx.objectStore('meta').put(true, Meta.migrateSessions);
      }
      // Version 4 (README "Groups"): groups and their conversations, sealed like every user row.
      if (oldVersion < 4) {
        db.createObjectStore('groups', { keyPath: 'id' }).createIndex('byLastAt', 'lastAt');
        db.createObjectStore('groupMessages', { keyPath: 'key' }).createIndex('byGroup', ['groupId', 'sentAt']);
      }
      // Version 5 (README "Search"): the sealed search index; history is indexed lazily (search-repo.ts).
      if (oldVersion < 5) db.createObjectStore('searchIndex', { keyPath: 'id' });
      // Version 6 (README "Attachments"): this browser's own copy of each file (file-repo.ts).
      if (oldVersion < 6) db.createObjectStore('files', { keyPath: ['owner', 'at'] });
      // Version 7: contacts' profile pictures move out of the contact rows (contact-repo.ts);
      // rows written before keep theirs inline until `moveInlineAvatars` runs on the open vault.
      if (oldVersion < 7) {
        db.createObjectStore('avatars', { keyPath: 'username' });
        if (oldVersion >= 1) void tx.objectStore('meta').put(true, Meta.moveAvatars);
      }
    }
  });
}

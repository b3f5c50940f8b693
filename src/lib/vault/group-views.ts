/**
 * What the vault shows of groups (README "Groups"): plain data for the UI — ids in hex, names,
 * roles, safety numbers as digits — never key bytes, the master key or sender keys.
 */
import type { Username } from '../codec/username';
import type { AttachmentView, ChatFlags } from './views';

export interface GroupSummaryView {
  /** 64 hex digits. */
  id: string;
  name: string;
  lastPreview?: string;
  lastAt?: number;
  unread: number;
  /** Messages known to be missing (sender-key gaps, P21). */
  missing: number;
  memberCount: number;
  /** False once we left or were removed: the conversation stays, nothing more arrives. */
  isMember: boolean;
  /** The group picture from the signed state (a re-encoded JPEG), if it has one. */
  avatar?: Uint8Array;
  /** Unread messages that mention us: the list shows "@" until the group is read. */
  mentions: number;
  /**
   * How the user filed it on this browser, as a chat (README "Chat list"): pinned on top, muted
   * (no notifications, except a new mention of us), archived (out of the list).
   */
  flags: ChatFlags;
  /** A group request (P42): who added us; no receipts or profile key until we accept or write. */
  requestFrom?: Username;
}

export interface GroupMemberView {
  username: Username;
  role: 'admin' | 'member';
  /** 60 digits for our identity and theirs, as in a 1:1 chat (empty for ourselves). */
  safetyNumber: string;
  me: boolean;
  /** A contact of ours: their contact screen (verify, scan) opens for them. */
  contact: boolean;
}

/** Someone who asked to join by a link that needs approval (README "Groups": invite links). */
export interface JoinRequestView {
  username: Username;
  safetyNumber: string;
}

export interface GroupInfoView {
  id: string;
  name: string;
  description: string;
  /** The group picture (a re-encoded JPEG), or null. */
  avatar: Uint8Array | null;
  /** Whether we may change the name, description and picture (member, and admin or editInfo 'members'). */
  canEditInfo: boolean;
  /** The signed state's version (P19). */
  version: number;
  members: GroupMemberView[];
  amAdmin: boolean;
  isMember: boolean;
  /** Who may edit the name and description / add members. */
  settings: { editInfo: 'admins' | 'members'; addMembers: 'admins' | 'members' };
  /** Whether an invite link is on, and whether it needs an admin's approval. */
  invite: { on: boolean; approval: boolean };
  pending: JoinRequestView[];
  /** A group request (P42): who added us, not accepted yet. */
  requestFrom?: Username;
  /**
   * Our changes a simultaneous change undid, as words ("adding carol"), when something of them
   * still applies: the screen offers "Try again" (answerUndoneGroupChanges). Absent when none.
   */
  undone?: string;
}

/** An edit of the group's info: fields left out stay; `avatar` null removes the picture. */
export interface GroupInfoEdit {
  name?: string;
  description?: string;
  /** A JPEG the page re-encoded (avatar-image.ts), or null for none. */
  avatar?: Uint8Array | null;
}

/** What an invite link shows before joining (decrypted from the invite blob with the link). */
export interface InvitePreviewView {
  /** 64 hex digits. */
  groupId: string;
  name: string;
  description: string;
  /** The group picture from the state the link opens, if it has one. */
  avatar?: Uint8Array;
  memberCount: number;
  approval: boolean;
  status: 'none' | 'pending' | 'member';
}

/** `restored`: the account was restored with its PIN here; earlier messages are not on this browser. */
/**
 * `renamed` / `described` / `pictured` / `unpictured`: `who` changed the group's name (to `text`),
 * description, or picture (set / removed) by a signed change (P19).
 */
/**
 * `added-you`: the welcome, `who` added us (P42: for a group request, the adder). Rows stored
 * before it have `joined` with our own name, and still read "You joined".
 */
export type GroupNotice = 'gap' | 'joined' | 'added-you' | 'removed' | 'left' | 'created' | 'you-removed' | 'restored' | 'renamed' | 'described' | 'pictured' | 'unpictured' | 'undone' | 'unjoined' | 'rejoined' | 'name-reverted' | 'info-reverted';

export type GroupMessageView =
  | {
      kind: 'text';
      id: string;
      /** Who wrote it (ourselves for outgoing). */
      sender: Username;
      direction: 'in' | 'out';
      text: string;
      at: number;
      /** Outgoing only. */
      status?: 'queued' | 'sent' | 'failed';
      /** Outgoing only: how far it got with each member it was sent to. */
      receipts?: GroupReceiptView;
      /** Members the text mentions (only members; checked on receipt). */
      mentions?: Username[];
      /** A reply: what it quotes (README "Groups": message actions); `text` absent when it is gone. */
      quote?: GroupQuoteView;
      /** Reactions, one per member, grouped by emoji in first-seen order, with who chose each. */
      reactions?: GroupReactionView[];
      /** The author changed the text after sending it. */
      edited?: true;
      /** Deleted for everyone: `text` is empty. */
      deleted?: true;
      /** A file or voice note (README "Groups": files in groups); `text` is then its caption. Never its key. */
      attachment?: AttachmentView;
      /** Theirs: its sender key came under a changed safety number not accepted yet (P36, P3). */
      keyChanged?: true;
    }
  | {
      kind: 'notice';
      id: string;
      notice: GroupNotice;
      /** The member the notice is about ('' when it is about us). */
      who: string;
      at: number;
      /** `renamed`: the new name. */
      text?: string;
    };

/** One member's state for one of our group messages (README "Groups": receipts per member). */
export interface GroupReceiptView {
  /** Members it was sent to. */
  of: number;
  /** Members that stored it (read counts as delivered too). */
  delivered: number;
  read: number;
  members: { username: Username; state: 'sent' | 'delivered' | 'read' }[];
}

/** What a group reply quotes: the quoted message's view id, its author, and its text if still here. */
export interface GroupQuoteView {
  id: string;
  sender: Username;
  text?: string;
}

/** One emoji on a group message: how many chose it, who (members' usernames), and whether we did. */
export interface GroupReactionView {
  emoji: string;
  count: number;
  who: Username[];
  mine: boolean;
}

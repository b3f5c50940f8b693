/**
 * The vault contract (DESIGN.md §1 "Keys never leave the vault worker"): every operation the main
 * thread may ask of the key-holding worker, written once. The engine implements `VaultContract`;
 * the worker exposes exactly `VAULT_METHODS` of it, each wrapped by `toResult`; the main thread
 * calls the same methods through `RemoteVault` and `unwrap`s each answer (result.ts). Plain data
 * in and out (views.ts), never key bytes. Type-only but for the method allowlist.
 *
 * Arguments that name a person are `Username`, but a brand is a compile-time promise only: the
 * engine re-checks every username it receives.
 */
import type { Username } from '../codec/username';
import type { Result } from './result';
import type {
  AccountView,
  Availability,
  CallEnding,
  CallLogEntry,
  ChatFlags,
  ChatView,
  Comparison,
  ContactView,
  EditVersionView,
  FilePlaceView,
  FileStorageView,
  IceServers,
  LockPassphraseCheck,
  LockStatus,
  MessageCursor,
  MessagePage,
  MessageView,
  OpenedFile,
  OutgoingFile,
  PinChangeOutcome,
  PinStatus,
  PinStrength,
  PrivacySettings,
  ProfileSaved,
  ProfileView,
  RecoveryHealth,
  RecoveryProblem,
  RestoreOutcome,
  SelfTestReport,
  UnsentFileView,
  VaultEvent,
  VaultInfo
} from './views';
import type { GroupInfoEdit, GroupInfoView, GroupMessageView, GroupSummaryView, InvitePreviewView } from './group-views';
import type { SearchResult } from './search-views';

/** Bumped when the contract changes shape, so a stale cached worker is noticed. */
export const VAULT_API_VERSION = 21;

export interface VaultContract {
  /** Resolves once libsodium is loaded inside the worker. */
  ready(): Promise<VaultInfo>;
  /** Round-trips `text` through a throw-away PQXDH + Double Ratchet session inside the worker. */
  selfTest(text: string): Promise<SelfTestReport>;

  // ---- account ----
  /** The local account, or null before onboarding; throws StorageLost after eviction (P33). */
  account(): Promise<AccountView | null>;
  checkUsername(raw: string): Promise<Availability>;
  createAccount(raw: string): Promise<AccountView>;
  /** P33: erase this browser's vault (after StorageLost, when the user starts over). */
  resetLocalData(): Promise<void>;

  // ---- PIN recovery (DESIGN.md §7; SECURITY.md P37, P38) ----
  /** The acceptance rule for a new recovery secret with this deployment's realms (no network). */
  checkPinStrength(pin: string): Promise<PinStrength>;
  /** A generated recovery key to write down (P38). */
  newRecoveryKey(): Promise<string>;
  setupPin(pin: string): Promise<PinStatus>;
  /** P37: needs the current secret; `next` equal to `current` repairs a lost share (P38). */
  changePin(current: string, next: string): Promise<PinChangeOutcome>;
  disablePin(): Promise<PinStatus>;
  pinStatus(): Promise<PinStatus>;
  /** P38: wrong guesses and lost shares as the realms report them (null when recovery is off). */
  recoveryHealth(): Promise<RecoveryHealth | null>;
  checkPinReminder(pin: string): Promise<{ correct: boolean; status: PinStatus; problem?: RecoveryProblem }>;
  /** A new browser (or a lost vault) takes the account back with username and secret. */
  restoreAccount(raw: string, pin: string): Promise<RestoreOutcome>;
  /** Groups from the backup a restore could not fetch yet; tried again on every connect. */
  groupsPendingRestore(): Promise<number>;

  // ---- people and chats ----
  /** Finds a user on the host (throws NoSuchUser) and opens the chat with them. */
  lookupUser(raw: string): Promise<{ username: Username }>;
  listChats(): Promise<ChatView[]>;
  /**
   * P46: the address segments of the chats with `usernames` (in order), which name nobody outside
   * this vault. One call for many (a group's info screen asks for every contact member at once).
   */
  chatRoutes(usernames: readonly Username[]): Promise<string[]>;
  /** Whose chat an address segment names; undefined for one this vault did not make. */
  openChatRoute(segment: string): Promise<Username | undefined>;
  /** Pins, mutes or archives a chat (only the flags given change); local, nothing is sent. */
  setChatFlags(username: Username, flags: Partial<ChatFlags>): Promise<void>;
  /** Deletes the chat's messages and files from this browser and leaves it out of the list until its next message; nothing is sent. */
  deleteChat(username: Username): Promise<void>;
  /** P44: the chat's disappearing timer in seconds (0 off, 300, 3600, 28800, 86400, 604800, 2419200), for both sides. */
  setDisappearing(username: Username, seconds: number): Promise<void>;
  listMessages(username: Username): Promise<MessageView[]>;
  /** Up to `limit` (1..500) messages just before `before` (the newest when absent), oldest first. */
  listMessagePage(username: Username, before?: MessageCursor, limit?: number): Promise<MessagePage>;
  sendText(username: Username, text: string): Promise<MessageView>;
  /** Seals a file, uploads it (resuming an earlier try of the same file) and sends it (README "Attachments"). */
  sendAttachment(username: Username, file: OutgoingFile): Promise<MessageView>;
  /** Downloads, checks and decrypts the file of message `id`; Tampered if the host changed it. */
  openAttachment(username: Username, id: string, transfer: string): Promise<OpenedFile>;
  /**
   * How much of the file of message `id` this browser holds: 1 the whole file (opening it needs no
   * download), 0 none, in between the parts a stopped download kept (the next open resumes).
   */
  attachmentHeld(username: Username, id: string): Promise<number>;
  /** P36: sends a text that was not sent because the key changed, to the key trusted now (re-dated to now). */
  sendAgain(username: Username, id: string): Promise<MessageView>;
  /** Marks the chat read and queues one read receipt; answers how many messages it marked. */
  markRead(username: Username): Promise<number>;

  // ---- message actions (README "Message actions"; P47: only the author edits or deletes) ----
  /** A text replying to (quoting) the message `quoteId` of this chat. */
  sendReply(username: Username, quoteId: string, text: string): Promise<MessageView>;
  /** Our reaction (one emoji) to a message of this chat, replacing our previous one; '' takes it back. */
  react(username: Username, id: string, emoji: string): Promise<MessageView>;
  /** A new text for our own message, within 24 hours of sending it. */
  editMessage(username: Username, id: string, text: string): Promise<MessageView>;
  /** Deletes our own message for everyone, within 24 hours of sending it. */
  deleteForEveryone(username: Username, id: string): Promise<MessageView>;
  /** Removes a message from this browser only; nothing is sent. */
  deleteForMe(username: Username, id: string): Promise<void>;
  /** An edited message's versions: the current text, then the earlier ones newest first ([] if never edited, or deleted). */
  messageEditHistory(username: Username, id: string): Promise<EditVersionView[]>;
  /** Messages matching `query` (README "Search"), newest first, at most `limit` (default 50, at most 100). */
  searchMessages(query: string, limit?: number): Promise<SearchResult>;
  contactInfo(username: Username): Promise<ContactView>;
  /** P3: marks the shown key verified if `compared` is what the vault computes for it (else SafetyNumberMismatch). */
  markVerified(username: Username, compared: Comparison): Promise<ContactView>;
  /** Trusts a changed key for what is written from now on (P36: nothing written before goes to it). */
  acceptIdentityChange(username: Username): Promise<ContactView>;
  /** Keeps the old key: the new key's sessions are dropped and nothing is sent to it (P36). */
  rejectIdentityChange(username: Username): Promise<ContactView>;
  /** Blocks them; P43: our profile key rotates and is re-shared with everyone else. */
  block(username: Username): Promise<void>;
  unblock(username: Username): Promise<void>;
  /** P42: accept a message request (they get our profile key) or delete it (nothing is sent). */
  acceptRequest(username: Username): Promise<void>;
  deleteRequest(username: Username): Promise<void>;
  /**
   * P42 group requests (README "Groups": group requests): accept (receipts and our profile key
   * start), delete (leave; the group goes from this device) or block (block the adder, then delete).
   */
  answerGroupRequest(id: string, answer: 'accept' | 'delete' | 'block'): Promise<void>;
  privacySettings(): Promise<PrivacySettings>;
  /** Fields left out keep their value. */
  setPrivacySettings(settings: Partial<PrivacySettings>): Promise<PrivacySettings>;
  /** Web Push (README "Web Push with the tab closed"): this browser's push endpoint, registered with the host. */
  registerPush(endpoint: string): Promise<void>;
  /** Deletes it from the host; one the host no longer has counts as deleted. */
  unregisterPush(endpoint: string): Promise<void>;
  /**
   * The user is typing to `username` (true) or stopped: sent sealed, only if allowed and possible
   * now, else nothing (README "Typing indicators"). Answers whether a notice went.
   */
  sendTyping(username: Username, typing: boolean): Promise<boolean>;

  // ---- private profile (P43) ----
  /** Our profile as saved on this device. */
  myProfile(): Promise<ProfileView>;
  /** Saves and publishes our profile (the avatar already resized and re-encoded by the page). */
  setProfile(profile: ProfileView): Promise<ProfileSaved>;
  /** Our username link's text (id and key, for after '#'); made on first use. */
  usernameLink(): Promise<string>;
  /** A new link; the old one stops working everywhere. */
  resetUsernameLink(): Promise<string>;
  /** Opens someone's link (the text after '#') and starts the chat; NoSuchUser if it was reset. */
  openUsernameLink(link: string): Promise<{ username: Username }>;

  // ---- groups (README "Groups"; SECURITY.md P19–P21) ----
  /** Creates a group with us as admin and adds `members` in one signed change; answers its id. */
  createGroup(name: string, description: string, members: Username[]): Promise<string>;
  listGroups(): Promise<GroupSummaryView[]>;
  groupInfo(id: string): Promise<GroupInfoView>;
  addGroupMembers(id: string, members: Username[]): Promise<void>;
  removeGroupMember(id: string, username: Username): Promise<void>;
  setGroupRole(id: string, username: Username, role: 'admin' | 'member'): Promise<void>;
  leaveGroup(id: string): Promise<void>;
  /** Deletes a group we left or were removed from, with its messages and files, from this browser; nothing is sent. */
  deleteGroup(id: string): Promise<void>;
  /**
   * Our changes a simultaneous change undid (GroupInfoView `undone`): 'retry' signs again what
   * still applies, as one new change (the user's "Try again", never automatic); 'dismiss' forgets them.
   */
  answerUndoneGroupChanges(id: string, answer: 'retry' | 'dismiss'): Promise<void>;
  /** `mentions`: members the text mentions (README "Groups": mentions), carried beside the text. */
  sendGroupText(id: string, text: string, mentions?: Username[]): Promise<GroupMessageView>;
  listGroupMessages(id: string): Promise<GroupMessageView[]>;
  markGroupRead(id: string): Promise<void>;
  /**
   * Pins, mutes or archives a group (only the flags given change), as setChatFlags a chat; local,
   * nothing is sent. Muted: no notifications, except a new mention of us.
   */
  setGroupFlags(id: string, flags: Partial<ChatFlags>): Promise<void>;
  // ---- group invite links (README "Groups": invite links; SECURITY.md P19) ----
  /** Admin: turns the link on with a fresh secret (resetting any old one); answers the text after '#'. */
  createGroupInviteLink(id: string, approval: boolean): Promise<string>;
  /** Admin: the current link's text after '#', or null. */
  groupInviteLink(id: string): Promise<string | null>;
  setGroupInviteApproval(id: string, approval: boolean): Promise<void>;
  turnOffGroupInviteLink(id: string): Promise<void>;
  /** Opens a link (the text after '#') and shows the group it leads to. */
  previewGroupInvite(link: string): Promise<InvitePreviewView>;
  /** Signs our join by link and sends it to the members. */
  joinGroupByInvite(link: string): Promise<'joined' | 'pending' | 'member'>;
  /** Admin: approves or declines a pending request. */
  answerGroupJoin(id: string, username: Username, approve: boolean): Promise<void>;
  setGroupAccess(id: string, setting: 'editInfo' | 'addMembers', access: 'admins' | 'members'): Promise<void>;
  /** Changes the name, description and/or picture by a signed change (P19: NotPermitted if we may not). */
  editGroupInfo(id: string, edit: GroupInfoEdit): Promise<void>;
  // ---- message actions in groups (README "Groups": message actions; P47: only the author edits or deletes) ----
  /** A group text replying to (quoting) any member's message `quoteId` (a view id) of this group. */
  sendGroupReply(id: string, quoteId: string, text: string, mentions?: Username[]): Promise<GroupMessageView>;
  /** Our reaction (one emoji) to a message of this group, replacing our previous one; '' takes it back. */
  reactInGroup(id: string, messageId: string, emoji: string): Promise<void>;
  /** A new text for our own group message, within 24 hours of sending it. */
  editGroupMessage(id: string, messageId: string, text: string, mentions?: Username[]): Promise<void>;
  /** Deletes our own group message for every member, within 24 hours of sending it. */
  deleteGroupMessageForEveryone(id: string, messageId: string): Promise<void>;
  /** Removes a group message from this browser only; nothing is sent. */
  deleteGroupMessageForMe(id: string, messageId: string): Promise<void>;
  /** An edited group message's versions: the current text, then the earlier ones newest first ([] if never edited, or deleted). */
  groupMessageEditHistory(id: string, messageId: string): Promise<EditVersionView[]>;
  // ---- files in groups (README "Groups": files in groups; SECURITY.md P45, P21) ----
  /** Seals a file, uploads it ONCE and sends its pointer to every member under our sender key. */
  sendGroupAttachment(id: string, file: OutgoingFile): Promise<GroupMessageView>;
  /** Downloads, checks (Tampered if the host changed it) and decrypts the file of group message `messageId`. */
  openGroupAttachment(id: string, messageId: string, transfer: string): Promise<OpenedFile>;
  /** How much of the file of group message `messageId` this browser holds (as attachmentHeld). */
  groupAttachmentHeld(id: string, messageId: string): Promise<number>;

  // ---- connection ----
  connect(): Promise<void>;
  disconnect(): Promise<void>;

  // ---- calls (DESIGN.md §6): signals travel inside the ratchet; the log is a conversation entry ----
  /** An encoded call signal (wire/call.ts) sent inside the ratchet. */
  sendCallSignal(username: Username, signal: Uint8Array): Promise<void>;
  /** Writes (or replaces, by call id) the call's entry in the conversation. */
  recordCall(username: Username, entry: CallLogEntry): Promise<void>;
  /** What a lock must still do for the call on screen (replaces the last; null: no call). */
  armCallEnding(username: Username, ending: CallEnding | null): Promise<void>;
  /** STUN/TURN servers from the host, with short-lived TURN credentials. */
  iceServers(): Promise<IceServers>;

  // ---- app lock (SECURITY.md P46) and leaving this browser ----
  /** Whether the lock is on and this tab locked; answers while locked. */
  lockStatus(): Promise<LockStatus>;
  /** The P46 rule for a lock passphrase (zxcvbn in the worker). */
  checkLockPassphrase(passphrase: string): Promise<LockPassphraseCheck>;
  /** Turns the lock on: the vault key is then stored only wrapped under the passphrase. */
  enableLock(passphrase: string, idleMinutes: number): Promise<void>;
  /** Turns the lock off (asks the passphrase again); the browser-stored key wraps the vault again. */
  disableLock(passphrase: string): Promise<void>;
  /** Auto-lock after this many idle minutes (0: never). */
  setLockIdle(minutes: number): Promise<void>;
  /** Every tab of this account drops its keys now; answers while locked. */
  lockNow(): Promise<void>;
  /** WrongPassphrase if it does not open the lock (nothing changes); answers while locked. */
  unlock(passphrase: string): Promise<void>;
  /** A passkey's WebAuthn PRF output for its prfSalt also opens the lock (the passphrase wraps it in). */
  addLockPasskey(passphrase: string, passkey: { credentialId: Uint8Array; prfSalt: Uint8Array; prfOutput: Uint8Array }): Promise<void>;
  removeLockPasskeys(): Promise<void>;
  /** Unlocks with a passkey's PRF output; answers while locked. */
  unlockWithPasskey(credentialId: Uint8Array, prfOutput: Uint8Array): Promise<void>;
  /** This browser forgets the account (every local key and record); it stays on the host. */
  signOut(): Promise<void>;
  /** Deletes this account's database in this browser (also while locked); the engine stops for good. */
  removeAccount(): Promise<void>;

  // ---- storage ----
  /** The files kept in this browser, per conversation, largest first (README "Attachments": Manage storage). */
  fileStorage(): Promise<FileStorageView[]>;
  /** Removes this browser's copies of a conversation's files; the messages stay. Answers what was freed. */
  removeFiles(place: FilePlaceView): Promise<{ files: number; bytes: number }>;
  /** Files of a conversation whose upload stopped with its tab, unsent (README "Attachments": unsent files). */
  unsentFiles(place: FilePlaceView): Promise<UnsentFileView[]>;
  /** Forgets one of them (an upload still running, here or in another tab, is left alone). */
  dismissUnsentFile(id: string): Promise<void>;
  /** The person gave up a failed upload (the tray's Cancel): it is dropped and not listed as unsent. */
  discardUpload(transfer: string): Promise<void>;
  // ---- events ----
  /** `listener` is a Comlink proxy from the page; answers an id for `unsubscribe`. */
  subscribe(listener: (event: VaultEvent) => void): Promise<number>;
  unsubscribe(id: number): Promise<void>;
}

export type VaultMethod = keyof VaultContract;

/**
 * The only methods the worker exposes, frozen: Comlink serves property paths, so exposing the
 * engine itself would let any script in the page reach every property and method of it.
 */
export const VAULT_METHODS = Object.freeze([
  'ready',
  'selfTest',
  'account',
  'checkUsername',
  'createAccount',
  'resetLocalData',
  'checkPinStrength',
  'newRecoveryKey',
  'setupPin',
  'changePin',
  'disablePin',
  'pinStatus',
  'recoveryHealth',
  'checkPinReminder',
  'restoreAccount',
  'groupsPendingRestore',
  'lookupUser',
  'listChats',
  'chatRoutes',
  'openChatRoute',
  'setChatFlags',
  'deleteChat',
  'setDisappearing',
  'listMessages',
  'listMessagePage',
  'sendText',
  'sendAttachment',
  'openAttachment',
  'attachmentHeld',
  'fileStorage',
  'removeFiles',
  'unsentFiles',
  'dismissUnsentFile',
  'discardUpload',
  'sendAgain',
  'markRead',
  'sendReply',
  'react',
  'editMessage',
  'deleteForEveryone',
  'deleteForMe',
  'messageEditHistory',
  'searchMessages',
  'contactInfo',
  'markVerified',
  'acceptIdentityChange',
  'rejectIdentityChange',
  'block',
  'unblock',
  'acceptRequest',
  'deleteRequest',
  'answerGroupRequest',
  'privacySettings',
  'setPrivacySettings',
  'registerPush',
  'unregisterPush',
  'sendTyping',
  'myProfile',
  'setProfile',
  'usernameLink',
  'resetUsernameLink',
  'openUsernameLink',
  'createGroup',
  'listGroups',
  'groupInfo',
  'addGroupMembers',
  'removeGroupMember',
  'setGroupRole',
  'leaveGroup',
  'deleteGroup',
  'answerUndoneGroupChanges',
  'sendGroupText',
  'listGroupMessages',
  'markGroupRead',
  'setGroupFlags',
  'createGroupInviteLink',
  'groupInviteLink',
  'setGroupInviteApproval',
  'turnOffGroupInviteLink',
  'previewGroupInvite',
  'joinGroupByInvite',
  'answerGroupJoin',
  'setGroupAccess',
  'editGroupInfo',
  'sendGroupReply',
  'reactInGroup',
  'editGroupMessage',
  'deleteGroupMessageForEveryone',
  'deleteGroupMessageForMe',
  'groupMessageEditHistory',
  'sendGroupAttachment',
  'openGroupAttachment',
  'groupAttachmentHeld',
  'connect',
  'disconnect',
  'sendCallSignal',
  'recordCall',
  'armCallEnding',
  'iceServers',
  'lockStatus',
  'checkLockPassphrase',
  'enableLock',
  'disableLock',
  'setLockIdle',
  'lockNow',
  'unlock',
  'addLockPasskey',
  'removeLockPasskeys',
  'unlockWithPasskey',
  'signOut',
  'removeAccount',
  'subscribe',
  'unsubscribe'
] as const satisfies readonly VaultMethod[]);

/** What a locked vault still answers (P46); every other method is refused with Locked. */
export const WHILE_LOCKED: readonly VaultMethod[] = Object.freeze([
  'ready',
  'selfTest',
  'subscribe',
  'unsubscribe',
  'lockStatus',
  'lockNow',
  'unlock',
  'unlockWithPasskey',
  'removeAccount',
  'disconnect'
] as const satisfies readonly VaultMethod[]);

// Compile-time check that the list names every method of the contract, and nothing else.
type Listed = (typeof VAULT_METHODS)[number];
const everyMethodListed: [Exclude<VaultMethod, Listed>] extends [never] ? true : never = true;
void everyMethodListed;

/** The contract as it crosses Comlink: the same methods, each answering a Result. */
export type RemoteVault = {
  [K in VaultMethod]: (...args: Parameters<VaultContract[K]>) => Promise<Result<Awaited<ReturnType<VaultContract[K]>>>>;
};

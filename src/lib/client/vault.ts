/**
 * What the screens may ask of the vault, as promises that throw `VaultError` (with `code`) on
 * failure. `VaultClient` implements it over Comlink; stores depend on this interface only.
 * Every value in and out is plain public data (DESIGN.md §1).
 */
import type { AccountView, Availability, CallLogEntry, ChatView, ContactView, IceServers, MessageView, PinStatus, PinStrength, RestoreOutcome, VaultEvent } from './types';

export interface Vault {
  /** The local account, or undefined before onboarding. */
  account(): Promise<AccountView | undefined>;
  checkUsername(name: string): Promise<Availability>;
  createAccount(username: string): Promise<AccountView>;
  /** Throws VaultError `NoSuchUser` when nobody has that username. */
  lookupUser(username: string): Promise<{ username: string }>;
  listChats(): Promise<ChatView[]>;
  listMessages(chat: string): Promise<MessageView[]>;
  sendText(chat: string, text: string): Promise<MessageView>;
  markRead(chat: string): Promise<void>;
  contactInfo(username: string): Promise<ContactView>;
  markVerified(username: string, scannedQr?: string): Promise<void>;
  acceptIdentityChange(username: string): Promise<void>;
  block(username: string): Promise<void>;
  unblock(username: string): Promise<void>;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Calls (issue 4): an encoded call signal (wire/call.ts) sent inside the ratchet. */
  sendCallSignal(chat: string, signal: Uint8Array): Promise<void>;
  /** Writes (or replaces, by call id) the call's entry in the conversation. */
  recordCall(chat: string, entry: CallLogEntry): Promise<void>;
  /** STUN/TURN servers from the host, with short-lived TURN credentials. */
  iceServers(): Promise<IceServers>;
  /** PIN recovery (issue 5): the strength rule, for feedback while typing. */
  checkPinStrength(pin: string): Promise<PinStrength>;
  setupPin(pin: string): Promise<PinStatus>;
  changePin(pin: string): Promise<PinStatus>;
  disablePin(): Promise<PinStatus>;
  pinStatus(): Promise<PinStatus>;
  checkPinReminder(pin: string): Promise<{ correct: boolean; status: PinStatus }>;
  /** A new browser (or a lost vault) takes the account back with username and PIN. */
  restoreAccount(username: string, pin: string): Promise<RestoreOutcome>;
  /** P33: erase this browser's vault (after StorageLost, when the user starts over). */
  resetLocalData(): Promise<void>;
  /** Calls `listener` for every engine event until the returned function is called. */
  subscribe(listener: (event: VaultEvent) => void): Promise<() => void>;
}

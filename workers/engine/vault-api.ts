/**
 * The worker's implementation of the vault contract (src/lib/vault/contract.ts): the Engine's
 * methods, opened lazily once per worker, plus what needs no engine (ready, selfTest) and event
 * subscriptions by id. vault.worker.ts serves it through `serveVault`
 * and an allowlisting endpoint, so the page reaches exactly the contract's methods.
 */
import { PINNED_SEALED_TRUST } from '../../src/lib/config/sealed-trust';
import { systemDeps } from '../../src/lib/crypto/deps';
import { fail } from '../../src/lib/codec/errors';
import { initSodium } from '../../src/lib/crypto/sodium';
import { PINNED_REALMS, PINNED_REALM_CONFIG, PINNED_THRESHOLD, pinnedRealmEndpoints, realmIndependence } from '../../src/lib/config/realms';
import { VAULT_API_VERSION, WHILE_LOCKED, type VaultContract } from '../../src/lib/vault/contract';
import { engineFail } from './errors';
import type { VaultEvent } from '../../src/lib/vault/views';
import { Engine, type EngineApi } from './engine';
import { HostHttpTransport } from './host-transport';
import { httpProfiles, httpUsernameLinks } from './profile-transport';
import { runSelfTest } from './self-test';
import type { LockMethod } from './lock-session';

type Delegated = { [K in keyof EngineApi]: VaultContract[K] };

export class VaultService implements VaultContract {
  readonly #openEngine: () => Promise<Engine>;
  #engine: Promise<Engine> | undefined;
  readonly #listeners = new Map<number, () => void>();
  #nextListener = 1;

  /** `openEngine` builds the Engine on first use; the default talks to the host that served the app. */
  constructor(openEngine: () => Promise<Engine> = openHostEngine) {
    this.#openEngine = openEngine;
  }

  /** The engine, opened on first use (a failed open is retried next call). */
  async #use(): Promise<Engine> {
    await initSodium();
    this.#engine ??= this.#openEngine().catch((e: unknown) => {
      this.#engine = undefined;
      throw e;
    });
    return this.#engine;
  }

  async ready() {
    const s = await initSodium();
    return { version: VAULT_API_VERSION, sodium: s.sodium_version_string() };
  }

  async selfTest(text: string) {
    await initSodium();
    return runSelfTest(text, systemDeps);
  }

  /** `listener` is a Comlink proxy from the page; internal events (tab roles) are not passed on. */
  // subscribe works while locked (the lock screen listens too).
  async subscribe(listener: (event: VaultEvent) => void): Promise<number> {
    const engine = await this.#use();
    const id = this.#nextListener++;
    const off = engine.subscribe((event) => {
      if (event.type === 'role') return;
      // A closed page's proxy rejects: swallow it so one dead listener never disturbs the engine.
      void Promise.resolve(listener(event)).catch(() => undefined);
    });
    this.#listeners.set(id, off);
    return id;
  }

  async unsubscribe(id: number): Promise<void> {
    this.#listeners.get(id)?.();
    this.#listeners.delete(id);
  }

  // Every other method is the engine's own, unchanged.
  account = this.#delegate('account');
  checkUsername = this.#delegate('checkUsername');
  createAccount = this.#delegate('createAccount');
  resetLocalData = this.#delegate('resetLocalData');
  checkPinStrength = this.#delegate('checkPinStrength');
  newRecoveryKey = this.#delegate('newRecoveryKey');
  recoveryHealth = this.#delegate('recoveryHealth');
  groupsPendingRestore = this.#delegate('groupsPendingRestore');
  setupPin = this.#delegate('setupPin');
  changePin = this.#delegate('changePin');
  disablePin = this.#delegate('disablePin');
  pinStatus = this.#delegate('pinStatus');
  checkPinReminder = this.#delegate('checkPinReminder');
  restoreAccount = this.#delegate('restoreAccount');
  lookupUser = this.#delegate('lookupUser');
  listChats = this.#delegate('listChats');
  chatRoutes = this.#delegate('chatRoutes');
  openChatRoute = this.#delegate('openChatRoute');
  deleteChat = this.#delegate('deleteChat');
  setChatFlags = this.#delegate('setChatFlags');
  setDisappearing = this.#delegate('setDisappearing');
  listMessages = this.#delegate('listMessages');
  listMessagePage = this.#delegate('listMessagePage');
  sendText = this.#delegate('sendText');
  sendAttachment = this.#delegate('sendAttachment');
  openAttachment = this.#delegate('openAttachment');
  attachmentHeld = this.#delegate('attachmentHeld');
  fileStorage = this.#delegate('fileStorage');
  removeFiles = this.#delegate('removeFiles');
  unsentFiles = this.#delegate('unsentFiles');
  dismissUnsentFile = this.#delegate('dismissUnsentFile');
  discardUpload = this.#delegate('discardUpload');
  sendAgain = this.#delegate('sendAgain');
  markRead = this.#delegate('markRead');
  sendReply = this.#delegate('sendReply');
  react = this.#delegate('react');
  editMessage = this.#delegate('editMessage');
  deleteForEveryone = this.#delegate('deleteForEveryone');
  deleteForMe = this.#delegate('deleteForMe');
  messageEditHistory = this.#delegate('messageEditHistory');
  searchMessages = this.#delegate('searchMessages');
  contactInfo = this.#delegate('contactInfo');
  markVerified = this.#delegate('markVerified');
  acceptIdentityChange = this.#delegate('acceptIdentityChange');
  rejectIdentityChange = this.#delegate('rejectIdentityChange');
  block = this.#delegate('block');
  unblock = this.#delegate('unblock');
  acceptRequest = this.#delegate('acceptRequest');
  deleteRequest = this.#delegate('deleteRequest');
  answerGroupRequest = this.#delegate('answerGroupRequest');
  privacySettings = this.#delegate('privacySettings');
  setPrivacySettings = this.#delegate('setPrivacySettings');
  registerPush = this.#delegate('registerPush');
  unregisterPush = this.#delegate('unregisterPush');
  sendTyping = this.#delegate('sendTyping');
  myProfile = this.#delegate('myProfile');
  setProfile = this.#delegate('setProfile');
  usernameLink = this.#delegate('usernameLink');
  resetUsernameLink = this.#delegate('resetUsernameLink');
  openUsernameLink = this.#delegate('openUsernameLink');
  createGroup = this.#delegate('createGroup');
  listGroups = this.#delegate('listGroups');
  groupInfo = this.#delegate('groupInfo');
  addGroupMembers = this.#delegate('addGroupMembers');
  removeGroupMember = this.#delegate('removeGroupMember');
  setGroupRole = this.#delegate('setGroupRole');
  leaveGroup = this.#delegate('leaveGroup');
  deleteGroup = this.#delegate('deleteGroup');
  answerUndoneGroupChanges = this.#delegate('answerUndoneGroupChanges');
  sendGroupText = this.#delegate('sendGroupText');
  listGroupMessages = this.#delegate('listGroupMessages');
  markGroupRead = this.#delegate('markGroupRead');
  setGroupFlags = this.#delegate('setGroupFlags');
  createGroupInviteLink = this.#delegate('createGroupInviteLink');
  groupInviteLink = this.#delegate('groupInviteLink');
  setGroupInviteApproval = this.#delegate('setGroupInviteApproval');
  turnOffGroupInviteLink = this.#delegate('turnOffGroupInviteLink');
  previewGroupInvite = this.#delegate('previewGroupInvite');
  joinGroupByInvite = this.#delegate('joinGroupByInvite');
  answerGroupJoin = this.#delegate('answerGroupJoin');
  setGroupAccess = this.#delegate('setGroupAccess');
  editGroupInfo = this.#delegate('editGroupInfo');
  sendGroupReply = this.#delegate('sendGroupReply');
  reactInGroup = this.#delegate('reactInGroup');
  editGroupMessage = this.#delegate('editGroupMessage');
  deleteGroupMessageForEveryone = this.#delegate('deleteGroupMessageForEveryone');
  deleteGroupMessageForMe = this.#delegate('deleteGroupMessageForMe');
  groupMessageEditHistory = this.#delegate('groupMessageEditHistory');
  sendGroupAttachment = this.#delegate('sendGroupAttachment');
  openGroupAttachment = this.#delegate('openGroupAttachment');
  groupAttachmentHeld = this.#delegate('groupAttachmentHeld');
  connect = this.#delegate('connect');
  disconnect = this.#delegate('disconnect');
  sendCallSignal = this.#delegate('sendCallSignal');
  recordCall = this.#delegate('recordCall');
  armCallEnding = this.#delegate('armCallEnding');
  iceServers = this.#delegate('iceServers');
  lockStatus = this.#delegateLock('lockStatus');
  checkLockPassphrase = this.#delegateLock('checkLockPassphrase');
  enableLock = this.#delegateLock('enableLock');
  disableLock = this.#delegateLock('disableLock');
  setLockIdle = this.#delegateLock('setLockIdle');
  lockNow = this.#delegateLock('lockNow');
  unlock = this.#delegateLock('unlock');
  addLockPasskey = this.#delegateLock('addLockPasskey');
  removeLockPasskeys = this.#delegateLock('removeLockPasskeys');
  unlockWithPasskey = this.#delegateLock('unlockWithPasskey');
  signOut = this.#delegateLock('signOut');
  removeAccount = this.#delegateLock('removeAccount');

  /** The app lock's methods are the engine's LockSession's (lock-session.ts); they answer while locked. */
  #delegateLock<K extends LockMethod>(name: K): VaultContract[K] {
    const call = async (...args: unknown[]) => {
      const engine = await this.#use();
      if (engine.removed) engineFail('NoAccount', 'this account was removed from this browser');
      if (engine.ctx.vault.locked && !WHILE_LOCKED.includes(name)) engineFail('Locked', 'the app is locked');
      return (engine.locks[name] as (...a: unknown[]) => unknown).apply(engine.locks, args);
    };
    return call as unknown as VaultContract[K];
  }

  #delegate<K extends keyof EngineApi>(name: K): Delegated[K] {
    const call = async (...args: unknown[]) => {
      const engine = await this.#use();
      // P46: a locked vault answers only the lock's own methods; a removed one nothing.
      if (engine.removed) engineFail('NoAccount', 'this account was removed from this browser');
      if (engine.ctx.vault.locked && !WHILE_LOCKED.includes(name)) engineFail('Locked', 'the app is locked');
      return (engine[name] as (...a: unknown[]) => unknown).apply(engine, args);
    };
    return call as unknown as Delegated[K];
  }
}

/** The worker's origin is the host's: the vault talks only to the host that served the app. */
function openHostEngine(): Promise<Engine> {
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (!origin) return fail('NotInitialized', 'no host origin to connect to');
  // The realm list is pinned in this build (DESIGN.md §7), never taken from the host.
  const realms = pinnedRealmEndpoints().map((r, i) => ({ id: r.id, url: new URL(r.url, origin).toString(), name: PINNED_REALMS[i]!.name }));
  // P38: a short PIN only with independent realms (distinct origins, none the app's own).
  const independent = realmIndependence(PINNED_REALM_CONFIG, origin).independent;
  return Engine.open({
    transport: new HostHttpTransport(origin),
    profiles: httpProfiles(origin),
    usernameLinks: httpUsernameLinks(origin),
    recovery: { realms, threshold: PINNED_THRESHOLD, independent, fetch: (url, init) => globalThis.fetch(url, init) },
    // P41: the sealed-sender root pinned in this build, if any (else pinned on first use).
    ...(PINNED_SEALED_TRUST ? { sealedTrust: PINNED_SEALED_TRUST } : {})
  });
}

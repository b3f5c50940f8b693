/**
 * The app lock's lifecycle in one tab (SECURITY.md P46): locking drops every key this worker
 * holds — the account (identity private keys), the data key, the decoded-session cache, the
 * host's bearer token — closes the socket and leaves the driver lock and the tab channel;
 * unlocking loads them again and reconnects if the page had asked for it. It also keeps the tabs
 * of one vault together: a tab that re-keys tells the others to lock (sealed, with the keys they
 * still hold), then posts a content-free "look again" on a plain BroadcastChannel; and a deletion
 * of the database by another tab (Remove) shuts this engine down for good.
 *
 * The crypto and storage are app-lock.ts and storage/app-lock-repo.ts; the engine's tabs and
 * socket are reached only through `LockHost`. Knows nothing of messages or the protocol.
 */
import { unwrap as unwrapDb } from 'idb';
import type { VaultContract } from '../../src/lib/vault/contract';
import type { LockPassphraseCheck, LockStatus } from '../../src/lib/vault/views';
import { lockVault } from '../storage/app-lock-repo';
import { assertUsable } from '../storage/vault';
import { loadAccount } from './account';
import * as appLock from './app-lock';
import type { EngineContext } from './context';
import { forgetMemorySecrets } from './memory-secrets';

/** The contract's methods this class serves (vault-api.ts delegates them here). */
export type LockMethod =
  | 'lockStatus'
  | 'checkLockPassphrase'
  | 'enableLock'
  | 'disableLock'
  | 'setLockIdle'
  | 'lockNow'
  | 'unlock'
  | 'addLockPasskey'
  | 'removeLockPasskeys'
  | 'unlockWithPasskey'
  | 'signOut'
  | 'removeAccount';

/** What the engine lends the lock: its tabs, its connection and its reset, nothing else. */
export interface LockHost {
  readonly ctx: EngineContext;
  startTabs(): void;
  stopTabs(): void;
  /** Tells the other tabs, sealed with the current keys, to lock; emits nothing here. */
  tellTabsToLock(): void;
  wantsConnection(): boolean;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  settle(): Promise<void>;
  resetLocalData(): Promise<void>;
  /** Ends the call the page armed (hang-up through the ratchet, log entry) before the keys go. */
  endCallForLock(): Promise<void>;
  /** Drops the armed call unsent (the account is leaving). */
  forgetCallEnding(): void;
}

export class LockSession implements Pick<VaultContract, LockMethod> {
  /** The account left this browser: the engine is closed for good. */
  removed = false;
  #locking?: Promise<void>;
  #resumeConnected = false;
  #ping?: BroadcastChannel;

  constructor(
    private readonly host: LockHost,
    private readonly kdf: appLock.LockKdf
  ) {}

  private get ctx(): EngineContext {
    return this.host.ctx;
  }

  /** Listens for other tabs' re-keys and for the deletion of the database. */
  start(): void {
    unwrapDb(this.ctx.vault.db).addEventListener('versionchange', (e) => {
      if (e.newVersion !== null) return;
      void this.shutDown().then(() => this.ctx.events.emit({ type: 'removed' }));
    });
    if (typeof BroadcastChannel === 'undefined') return;
    this.#ping = new BroadcastChannel(`parley-lock:${this.ctx.vault.name}`);
    this.#ping.onmessage = () => void this.#recheck();
  }

  close(): void {
    this.#ping?.close();
  }

  /** Drops every key this tab holds; `tell`: the other tabs hear it first (sealed, P46). */
  lock(tell: boolean): Promise<void> {
    if (this.ctx.vault.locked) return Promise.resolve();
    this.#locking ??= (async () => {
      if (tell) this.ctx.events.emit({ type: 'locked' });
      // A lock under a call (here or from another tab) still hangs up inside the ratchet and logs
      // it, before the socket and the keys go (README "Calls and the lock").
      await this.host.endCallForLock();
      this.#resumeConnected ||= this.host.wantsConnection();
      await this.host.disconnect();
      await this.ctx.serial(async () => {
        this.host.stopTabs();
        this.ctx.me = undefined;
        this.ctx.transport.forget?.();
        await lockVault(this.ctx.vault);
        forgetMemorySecrets(this.ctx);
      });
      if (!tell) this.ctx.events.emit({ type: 'locked' });
    })().finally(() => (this.#locking = undefined));
    return this.#locking;
  }

  // ---- the contract's lock methods ----

  lockStatus(): Promise<LockStatus> {
    return appLock.lockStatus(this.ctx);
  }

  checkLockPassphrase(passphrase: string): Promise<LockPassphraseCheck> {
    return appLock.checkLockPassphrase(this.ctx, passphrase);
  }

  /** The other tabs lock first (their keys are about to be replaced), then hear "look again". */
  async enableLock(passphrase: string, idleMinutes: number): Promise<void> {
    await this.ctx.serial(() => appLock.enableLock(this.ctx, passphrase, idleMinutes, this.kdf, () => this.host.tellTabsToLock()));
    this.#ping?.postMessage('recheck');
    this.ctx.events.emit({ type: 'lock-changed' });
  }

  async disableLock(passphrase: string): Promise<void> {
    await this.ctx.serial(() => appLock.disableLock(this.ctx, passphrase, this.kdf, () => this.host.tellTabsToLock()));
    this.#ping?.postMessage('recheck');
    this.ctx.events.emit({ type: 'lock-changed' });
  }

  async setLockIdle(minutes: number): Promise<void> {
    await appLock.setIdleMinutes(this.ctx, minutes);
    this.ctx.events.emit({ type: 'lock-changed' });
  }

  async addLockPasskey(passphrase: string, passkey: appLock.NewPasskey): Promise<void> {
    await appLock.addPasskey(this.ctx, passphrase, this.kdf, passkey);
    this.ctx.events.emit({ type: 'lock-changed' });
  }

  async removeLockPasskeys(): Promise<void> {
    await appLock.removePasskeys(this.ctx);
    this.ctx.events.emit({ type: 'lock-changed' });
  }

  /** Every tab of this account drops its keys (the event reaches them sealed, before ours go). */
  async lockNow(): Promise<void> {
    if ((await appLock.lockStatus(this.ctx)).enabled) await this.lock(true);
  }

  async unlock(passphrase: string): Promise<void> {
    await this.#locking;
    if (!this.ctx.vault.locked) return;
    // Turned off in another tab meanwhile: the browser-stored key opens it again.
    if (!(await appLock.reopenWithStoredKey(this.ctx))) await appLock.unlockWithPassphrase(this.ctx, passphrase, this.kdf);
    await this.#resume();
  }

  async unlockWithPasskey(credentialId: Uint8Array, prfOutput: Uint8Array): Promise<void> {
    await this.#locking;
    if (!this.ctx.vault.locked) return;
    await appLock.unlockWithPasskey(this.ctx, credentialId, prfOutput);
    await this.#resume();
  }

  /**
   * This browser forgets the account: every local record and key is erased (the engine's
   * resetLocalData); the account stays on the host and comes back with the recovery secret.
   * The other tabs stop (they hear it sealed, before the keys go).
   */
  async signOut(): Promise<void> {
    assertUsable(this.ctx.vault);
    this.host.forgetCallEnding();
    this.ctx.events.emit({ type: 'removed' });
    this.ctx.transport.forget?.();
    await this.host.resetLocalData();
  }

  /** Deletes this account's database (also while locked); the page deletes the rest of the origin's storage. */
  async removeAccount(): Promise<void> {
    if (!this.ctx.vault.locked && !this.ctx.vault.lost) this.ctx.events.emit({ type: 'removed' });
    await this.shutDown();
    await appLock.deleteVaultDatabase(this.ctx.vault.name);
  }

  /** Stops this engine for good: the account left this browser (here or in another tab). */
  async shutDown(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    this.host.forgetCallEnding();
    await this.host.disconnect();
    await this.host.settle();
    this.host.stopTabs();
    this.ctx.me = undefined;
    this.ctx.transport.forget?.();
    await lockVault(this.ctx.vault);
    forgetMemorySecrets(this.ctx);
    this.close();
    this.ctx.vault.db.close();
  }

  async #resume(): Promise<void> {
    if (await loadAccount(this.ctx)) this.host.startTabs();
    this.ctx.events.emit({ type: 'unlocked' });
    if (this.#resumeConnected) {
      this.#resumeConnected = false;
      await this.host.connect();
    }
  }

  /**
   * "Look again" from a tab that re-keyed the vault. The ping is unsealed and content-free: any
   * script of the origin could post one, and all it does is make a tab check its key. Keep the
   * key if it still opens the vault, else lock, and reopen with a browser-stored key if the lock
   * is off now.
   */
  async #recheck(): Promise<void> {
    if (this.removed || (await appLock.keyStillOpens(this.ctx))) return;
    await this.lock(false);
    if (await appLock.reopenWithStoredKey(this.ctx)) await this.#resume();
  }
}

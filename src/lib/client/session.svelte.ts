/**
 * The app-wide reactive state on the main thread: which phase the app is in (starting, onboarding,
 * ready), the account, the chat list and the connection state, kept current from the vault's
 * event stream. Screens read it; conversation stores hang off it with `on()`.
 *
 * Holds only what the screens show (DESIGN.md §1): no keys, no ratchet state.
 */
import type { Username } from '../codec/username';
import type { VaultContract } from '../vault/contract';
import { VaultError } from '../vault/result';
import type { AccountView, ChatView, ConnectionState, LockStatus, PinStatus, RestoreOutcome, VaultEvent } from '../vault/views';
import { forgetThisBrowser } from './forget-browser';
import type { GroupSummaryView } from '../vault/group-views';

/**
 * 'lost': local storage was lost (P33) -> restore; 'signed-out': restored on another browser;
 * 'locked': the app lock holds the vault (P46) -> lock screen; 'removed': the account left this
 * browser (Sign out / Remove, here or in another tab).
 */
export type Phase = 'starting' | 'onboarding' | 'ready' | 'failed' | 'lost' | 'signed-out' | 'locked' | 'removed';

export function errorCode(e: unknown): string {
  return e instanceof VaultError ? e.code : 'Unknown';
}

export class Session {
  phase = $state<Phase>('starting');
  failure = $state<string | undefined>();
  account = $state<AccountView | undefined>();
  chats = $state<ChatView[]>([]);
  /** Groups in the chat list (README "Groups"). */
  groups = $state<GroupSummaryView[]>([]);
  connection = $state<ConnectionState>('connecting');
  /** The browser's own view of the network; the banner shows if either says offline. */
  browserOnline = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
  offline = $derived(this.connection === 'offline' || !this.browserOnline);
  /** PIN recovery state (DESIGN.md §7); undefined until read. */
  pin = $state<PinStatus | undefined>();
  /** Set right after onboarding: the PIN creation step comes next. */
  pinSetupPending = $state(false);
  /** The app lock (P46); undefined until read. */
  lock = $state<LockStatus | undefined>();

  readonly vault: VaultContract;
  // Plain Set on purpose: listeners are wiring, not state any component renders.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #listeners = new Set<(event: VaultEvent) => void>();
  #refreshing: Promise<void> | undefined;
  /** Our own Sign out / Remove is running: its 'removed' event is not news from another tab. */
  #leaving = false;
  #refreshAgain = false;

  constructor(vault: VaultContract) {
    this.vault = vault;
  }

  async start(): Promise<void> {
    if (typeof window !== 'undefined') {
      window.addEventListener('offline', () => (this.browserOnline = false));
      window.addEventListener('online', () => {
        this.browserOnline = true;
        // Nudge the engine: its own retry may be waiting out a back-off delay.
        if (this.phase === 'ready' && this.connection !== 'online') this.vault.connect().catch(() => {});
      });
    }
    try {
      // Lives as long as the page: the session is created once per page (app.svelte.ts).
      await this.vault.subscribe((event) => this.#onEvent(event));
      const account = await this.vault.account();
      if (account?.signedOut) this.#signOut(account);
      else if (account) await this.#enter(account);
      else this.phase = 'onboarding';
    } catch (e) {
      this.failure = errorCode(e);
      // P46: the app lock holds the vault: the lock screen asks for the passphrase.
      if (this.failure === 'Locked') return void (await this.#locked());
      // P33: storage was lost; the way back is a PIN restore (or starting over).
      this.phase = this.failure === 'StorageLost' ? 'lost' : 'failed';
    }
  }

  // ---- app lock (SECURITY.md P46) and leaving this browser ----

  async refreshLock(): Promise<LockStatus | undefined> {
    try {
      this.lock = await this.vault.lockStatus();
    } catch {
      // Removed or not started: nothing to show.
    }
    return this.lock;
  }

  /** Throws VaultError WrongPassphrase (nothing changes) or opens the app. */
  async unlock(passphrase: string): Promise<void> {
    await this.vault.unlock(passphrase);
    await this.#unlocked();
  }

  async unlockWithPasskey(credentialId: Uint8Array, prfOutput: Uint8Array): Promise<void> {
    await this.vault.unlockWithPasskey(credentialId, prfOutput);
    await this.#unlocked();
  }

  async lockNow(): Promise<void> {
    await this.vault.lockNow();
    await this.#locked();
  }

  /** This browser forgets the account; it stays on the host (restore with the recovery secret). */
  async signOut(): Promise<void> {
    this.#leaving = true;
    await this.vault.signOut().finally(() => (this.#leaving = false));
    this.#leave();
    this.phase = 'onboarding';
  }

  /** Deletes the vault, every other database of the origin, the app's caches and settings here. */
  async removeAccount(): Promise<void> {
    this.#leaving = true;
    await this.vault.removeAccount().finally(() => (this.#leaving = false));
    await forgetThisBrowser();
    this.#leave();
    this.phase = 'removed';
  }

  #leave(): void {
    this.account = undefined;
    this.chats = [];
    this.pin = undefined;
    this.lock = undefined;
    this.failure = undefined;
  }

  async #locked(): Promise<void> {
    this.chats = [];
    this.phase = 'locked';
    await this.refreshLock();
  }

  async #unlocked(): Promise<void> {
    if (this.phase !== 'locked') return;
    this.failure = undefined;
    void this.refreshLock();
    const account = await this.vault.account();
    if (account) await this.#enter(account);
  }

  async createAccount(username: string): Promise<void> {
    requestPersistentStorage();
    const account = await this.vault.createAccount(username);
    this.pinSetupPending = true;
    await this.#enter(account);
  }

  /** Username + PIN on a new browser; on success the app opens as that account. */
  async restore(username: string, pin: string): Promise<RestoreOutcome> {
    requestPersistentStorage();
    const outcome = await this.vault.restoreAccount(username, pin);
    if (outcome.status === 'restored') await this.#enter({ username: outcome.username });
    return outcome;
  }

  /** After StorageLost, the user chose to start over with a new account. */
  async startOver(): Promise<void> {
    await this.vault.resetLocalData();
    this.failure = undefined;
    this.phase = 'onboarding';
  }

  async refreshPin(): Promise<PinStatus | undefined> {
    try {
      this.pin = await this.vault.pinStatus();
    } catch {
      // No realms configured or not signed in: the PIN features stay hidden.
    }
    return this.pin;
  }

  /** Listen to vault events (conversation screens); returns the unsubscribe function. */
  on(listener: (event: VaultEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  chat(username: Username): ChatView | undefined {
    return this.chats.find((c) => c.username === username);
  }

  /** Re-reads the chat list; bursts of events collapse into at most one extra read. */
  refreshChats(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        try {
          this.chats = await this.vault.listChats();
          this.groups = await this.vault.listGroups();
        } catch {
          // Keep showing the last list; the next event retries.
        }
      } while (this.#refreshAgain);
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  #signOut(account?: AccountView): void {
    if (account) this.account = account;
    this.phase = 'signed-out';
    this.vault.disconnect().catch(() => {});
  }

  async #enter(account: AccountView): Promise<void> {
    this.account = account;
    await this.refreshChats();
    void this.refreshPin();
    void this.refreshLock();
    this.phase = 'ready';
    // Connecting is best effort: offline start-up still shows history, and the engine retries.
    this.vault.connect().catch(() => (this.connection = 'offline'));
  }

  #onEvent(event: VaultEvent): void {
    if (event.type === 'connection') this.connection = event.state;
    else if (event.type === 'signed-out') this.#signOut();
    else if (event.type === 'locked') void this.#locked();
    else if (event.type === 'unlocked') void this.#unlocked();
    else if (event.type === 'lock-changed') void this.refreshLock();
    else if (event.type === 'removed') {
      // Sign out or Remove in another tab: this one stops (our own calls set the phase themselves).
      if (!this.#leaving && (this.phase === 'ready' || this.phase === 'locked')) this.phase = 'removed';
    }
    // A call signal changes no chat (its log entry arrives as its own event), and call set-up
    // should not share the vault with a chat-list read.
    // Nor does a typing notice (README "Typing indicators"): the row reads it from the typing board.
    else if (event.type !== 'call' && event.type !== 'typing') void this.refreshChats();
    for (const listener of this.#listeners) listener(event);
  }
}

/**
 * Asks the browser not to evict Parley's IndexedDB (DESIGN.md §8). `persist()` exists only on
 * the window, not in workers, and some browsers grant it only during a user gesture, so it is
 * called first thing in the click handlers, before any await.
 */
function requestPersistentStorage(): void {
  void navigator.storage?.persist?.().catch(() => undefined);
}

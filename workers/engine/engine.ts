/**
 * The client engine (issue 3): the one object the vault worker exposes to the UI. Plain async
 * methods over plain data — usernames, ids, text, codes — never key bytes (DESIGN.md §1).
 *
 * It wires storage, transport and the engine modules together and owns the runtime decisions:
 * whether this tab drives (lock.ts), when to connect, when to flush the outbox, retrying when the
 * host is unreachable. Protocol work lives in inbox.ts / outbox.ts / sessions.ts.
 */
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { isCodedError } from '../../src/lib/codec/errors';
import { listChats as listChatRecords } from '../storage/chat-repo';
import { getContact } from '../storage/contact-repo';
import { listMessages as listMessageRecords } from '../storage/message-repo';
import { assertUsable, loadVault, resetVault } from '../storage/vault';
import type { ChatRecord, MessageRecord } from '../storage/schema';
import * as account from './account';
import { queueCallSignal, recordCall, type CallLogEntry } from './calls';
import * as contacts from './contacts';
import { serialQueue, type EngineContext, type Faults, type RecoveryConfig } from './context';
import { EventHub, type EngineEvent, type Listener } from './events';
import { receiveEnvelope } from './inbox';
import { browserLocks, DriverLock, TabChannel, type LockManagerLike } from './lock';
import { flushOutbox, queueText } from './outbox';
import { maintainPreKeys } from './prekey-pool';
import { markRead } from './receipts';
import { resetSessions } from './sessions';
import * as pin from './pin/pin';
import { restoreAccount as restoreFromPin, type RestoreOutcome } from './pin/restore';
import type { Envelope, HostTransport, IceServers } from './transport';
import { isEngineError } from './errors';

export interface EngineOptions {
  transport: HostTransport;
  /** IndexedDB database name (one per browser profile; tests use one per user). */
  dbName?: string;
  deps?: Deps;
  /** Lock manager for the driver lock; default: the browser's Web Locks if present. */
  locks?: LockManagerLike;
  faults?: Faults;
  /** First retry delay when the host is unreachable (doubles up to 30 s). */
  retryMs?: number;
  /** PIN recovery realms (issue 5); without them the PIN methods answer NotInitialized. */
  recovery?: RecoveryConfig;
  /** Delay before the account record is re-uploaded after contacts change (default 2 s). */
  recordDebounceMs?: number;
}

export interface ChatSummary extends ChatRecord {
  name: string;
  verified: boolean;
  blocked: boolean;
  identityChanged: boolean;
}

export type MessageView = Omit<MessageRecord, 'read'> & { read: boolean };

const MAX_RETRY_MS = 30_000;

export class Engine {
  private readonly events: EventHub;
  private readonly remote = new WeakSet<EngineEvent>();
  private lock?: DriverLock;
  private channel?: TabChannel;
  private unforwardEvents?: () => void;
  private wantConnected = false;
  private flushQueued = false;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private retryDelay: number;
  private inFlight = 0;
  private signedOut = false;
  private recordTimer?: ReturnType<typeof setTimeout>;
  private recordDigest?: string;

  private constructor(
    readonly ctx: EngineContext,
    private readonly opts: EngineOptions
  ) {
    this.retryDelay = opts.retryMs ?? 1000;
    this.events = ctx.events;
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    const vault = await loadVault(opts.dbName ?? 'parley');
    const serial = serialQueue();
    const engine: Engine = new Engine(
      {
        vault,
        transport: opts.transport,
        deps: opts.deps ?? systemDeps,
        events: new EventHub(),
        faults: opts.faults ?? {},
        ...(opts.recovery ? { recovery: opts.recovery } : {}),
        connection: 'offline',
        driver: false,
        serial: (step) => engine.track(serial(step)),
        kickOutbox: () => engine.kickOutbox()
      },
      opts
    );
    if (await account.loadAccount(engine.ctx)) engine.startTabs();
    return engine;
  }

  // ---- account ----

  async createAccount(username: string): Promise<{ username: string }> {
    // P33: a lost vault is restored or explicitly reset, never silently given a new identity.
    assertUsable(this.ctx.vault);
    const r = await account.createAccount(this.ctx, username);
    this.startTabs();
    return r;
  }

  /** Throws StorageLost if local storage was lost (P33): the UI routes to restore. */
  account(): { username: string; signedOut?: true } | null {
    assertUsable(this.ctx.vault);
    if (!this.ctx.me) return null;
    return this.signedOut ? { username: this.ctx.me.username, signedOut: true } : { username: this.ctx.me.username };
  }

  // ---- PIN recovery (issue 5) ----

  setupPin(value: string) {
    return pin.setupPin(this.ctx, value);
  }

  changePin(value: string) {
    return pin.changePin(this.ctx, value);
  }

  disablePin() {
    return pin.disablePin(this.ctx);
  }

  pinStatus() {
    return pin.pinStatus(this.ctx);
  }

  checkPinReminder(value: string) {
    return pin.checkPinReminder(this.ctx, value);
  }

  /** A fresh (or lost, P33) vault becomes the account again; the old browser is signed out. */
  async restoreAccount(username: string, value: string): Promise<RestoreOutcome> {
    const r = await restoreFromPin(this.ctx, username, value);
    if (r.status === 'restored') this.startTabs();
    return r;
  }

  async checkUsername(name: string): Promise<{ username: string; valid: boolean; available: boolean }> {
    let username: string;
    try {
      username = account.canonicalUsername(name);
    } catch {
      return { username: name, valid: false, available: false };
    }
    return { username, valid: true, available: await this.ctx.transport.usernameAvailable(username) };
  }

  // ---- contacts and chats ----

  lookupUser(username: string) {
    return contacts.lookupUser(this.ctx, username);
  }

  contactInfo(username: string) {
    return contacts.contactInfo(this.ctx, username);
  }

  markVerified(username: string, scannedQr?: string) {
    return contacts.markVerified(this.ctx, username, scannedQr);
  }

  acceptIdentityChange(username: string) {
    return contacts.acceptIdentityChange(this.ctx, username);
  }

  block(username: string) {
    return contacts.setBlocked(this.ctx, username, true);
  }

  unblock(username: string) {
    return contacts.setBlocked(this.ctx, username, false);
  }

  resetSession(username: string): Promise<void> {
    return this.ctx.serial(() => resetSessions(this.ctx, username));
  }

  async listChats(): Promise<ChatSummary[]> {
    const out: ChatSummary[] = [];
    for (const chat of await listChatRecords(this.ctx.vault)) {
      const c = await getContact(this.ctx.vault, chat.id);
      out.push({
        ...chat,
        name: chat.id,
        verified: !!c?.verified && !c.pendingIdentity,
        blocked: !!c?.blocked,
        identityChanged: !!c && (c.identityChanged || !!c.pendingIdentity)
      });
    }
    return out;
  }

  async listMessages(chatId: string): Promise<MessageView[]> {
    return (await listMessageRecords(this.ctx.vault, chatId)).map((m) => ({ ...m, read: m.read ?? true }));
  }

  async sendText(chatId: string, text: string): Promise<MessageView> {
    const m = await queueText(this.ctx, chatId, text);
    return { ...m, read: true };
  }

  markRead(chatId: string): Promise<number> {
    return markRead(this.ctx, chatId);
  }

  // ---- calls (issue 4) ----

  sendCallSignal(chatId: string, signal: Uint8Array): Promise<void> {
    return queueCallSignal(this.ctx, chatId, signal);
  }

  recordCall(chatId: string, entry: CallLogEntry): Promise<void> {
    return recordCall(this.ctx, chatId, entry);
  }

  /** ICE servers (with short-lived TURN credentials) from the host, for authenticated accounts. */
  async iceServers(): Promise<IceServers> {
    const me = this.ctx.me;
    if (!me || !this.ctx.transport.iceServers) return { iceServers: [], expiresAt: null };
    return this.ctx.transport.iceServers(account.hostAuth(me));
  }

  subscribe(listener: Listener): () => void {
    return this.events.subscribe(listener);
  }

  // ---- connection ----

  connect(): void {
    this.wantConnected = true;
    if (this.ctx.driver) this.openConnection();
  }

  disconnect(): void {
    this.wantConnected = false;
    this.ctx.transport.disconnect();
    clearTimeout(this.retryTimer);
    clearTimeout(this.recordTimer);
  }

  /** Resolves when no engine work is pending (tests and orderly shutdown). */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((r) => setTimeout(r, 0));
      quiet = this.inFlight === 0 ? quiet + 1 : 0;
    }
  }

  /** Closes this tab's engine: stops driving (another tab takes over) and closes the database. */
  async close(): Promise<void> {
    this.disconnect();
    await this.settle();
    this.lock?.close();
    this.channel?.close();
    this.ctx.driver = false;
    this.ctx.vault.db.close();
  }

  /**
   * P33's explicit way out: erases every local record and key of this vault (the user chose to
   * start over instead of restoring). Afterwards there is no account; createAccount works again.
   */
  async resetLocalData(): Promise<void> {
    this.disconnect();
    await this.settle();
    this.unforwardEvents?.();
    this.unforwardEvents = undefined;
    this.lock?.close();
    this.lock = undefined;
    this.channel?.close();
    this.channel = undefined;
    this.ctx.driver = false;
    this.ctx.me = undefined;
    await resetVault(this.ctx.vault);
  }

  // ---- internals ----

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    return p.finally(() => this.inFlight--);
  }

  /** After an account exists: join the tab group and ask to drive. */
  private startTabs(): void {
    if (this.lock) return;
    const username = this.ctx.me!.username;
    this.channel = new TabChannel(`parley-tabs:${username}`, (m) => {
      if (m.kind === 'kick') this.kickOutbox();
      else {
        this.remote.add(m.event);
        this.events.emit(m.event);
      }
    });
    this.unforwardEvents = this.events.subscribe((e) => {
      if (!this.remote.has(e)) this.channel?.post({ kind: 'event', event: e });
      // A follower tab learns it from its driver; a driver only from its own socket (in tests,
      // where every "browser" shares one BroadcastChannel, the old driver's news must not stop the new).
      if (e.type === 'signed-out' && (!this.remote.has(e) || !this.ctx.driver)) this.signedOut = true;
      // Contacts, verification or blocks may have changed: refresh the account record (issue 5).
      if (e.type === 'identity' || e.type === 'chats') this.scheduleRecordUpload();
    });
    this.lock = new DriverLock(this.opts.locks ?? browserLocks(), `parley-driver:${username}`);
    this.lock.acquire(() => {
      this.ctx.driver = true;
      this.events.emit({ type: 'role', role: 'driver' });
      if (this.wantConnected) this.openConnection();
    });
  }

  private openConnection(): void {
    const me = this.ctx.me;
    if (!me || this.signedOut) return;
    this.ctx.transport.connect(account.hostAuth(me), {
      envelope: (env) => void this.receive(env),
      signedOut: () => {
        this.signedOut = true;
        this.wantConnected = false;
        clearTimeout(this.retryTimer);
        clearTimeout(this.recordTimer);
        this.events.emit({ type: 'signed-out' });
      },
      state: (s) => {
        this.ctx.connection = s;
        this.events.emit({ type: 'connection', state: s });
        if (s === 'online') {
          this.retryDelay = this.opts.retryMs ?? 1000;
          this.kickOutbox();
          this.ctx.serial(() => maintainPreKeys(this.ctx)).catch(() => undefined);
        }
      }
    });
  }

  private async receive(env: Envelope): Promise<void> {
    try {
      await this.ctx.serial(() => receiveEnvelope(this.ctx, env));
    } catch (e) {
      // Not acked: the host redelivers it after reconnect. Only the code is reported.
      this.events.emit({ type: 'receive-error', sender: env.sender, code: isCodedError(e) ? e.code : 'Internal' });
    }
  }

  /** Debounced: one upload after a burst of changes, only by the driver, only if it changed. */
  private scheduleRecordUpload(): void {
    if (!this.ctx.driver || this.signedOut || !this.ctx.recovery) return;
    clearTimeout(this.recordTimer);
    this.recordTimer = setTimeout(() => {
      this.recordTimer = undefined;
      void this.track(pin.refreshAccountRecord(this.ctx, this.recordDigest))
        .then((d) => {
          this.recordDigest = d;
        })
        .catch((e: unknown) => {
          // Host down: try again later. Any other refusal would repeat; the next change retries.
          if (isEngineError(e, 'Unavailable')) this.scheduleRecordUpload();
        });
    }, this.opts.recordDebounceMs ?? 2000);
  }

  private kickOutbox(): void {
    if (!this.ctx.driver) {
      this.channel?.post({ kind: 'kick' });
      return;
    }
    if (this.ctx.connection !== 'online' || !this.ctx.me || this.flushQueued) return;
    this.flushQueued = true;
    void this.ctx
      .serial(async () => {
        this.flushQueued = false;
        return flushOutbox(this.ctx);
      })
      .then((r) => {
        if (r.unavailable) this.scheduleRetry();
      })
      .catch(() => this.scheduleRetry());
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || !this.wantConnected) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kickOutbox();
    }, this.retryDelay);
    this.retryDelay = Math.min(MAX_RETRY_MS, this.retryDelay * 2);
  }
}

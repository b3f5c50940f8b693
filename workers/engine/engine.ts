/**
 * The client engine: it implements the vault contract (src/lib/vault/contract.ts) that the worker
 * serves to the page. Plain async methods over plain data — usernames, ids, text, codes — never
 * key bytes (DESIGN.md §1). Every username it is given is canonicalised here: a brand on the
 * page's side is a compile-time promise only.
 *
 * It wires storage, transport and the engine modules together and owns the runtime decisions:
 * whether this tab drives (lock.ts), when to connect, when to flush the outbox, retrying when the
 * host is unreachable. Protocol work lives in inbox.ts / outbox.ts / sessions.ts; the contract's
 * other methods in the engine-*.ts facades it inherits (listed on the class).
 */
import { sweepUnfinishedFiles } from '../storage/file-repo';
import { systemDeps, type Deps } from '../../src/lib/crypto/deps';
import { isCodedError } from '../../src/lib/codec/errors';
import { assertUsable, loadVault, resetVault } from '../storage/vault';
import { USERNAME_MAX, USERNAME_MIN, type Username } from '../../src/lib/codec/username';
import type { VaultContract } from '../../src/lib/vault/contract';
import type { AccountView, Availability, RestoreOutcome } from '../../src/lib/vault/views';
import * as account from './account';
import { serialQueue, type EngineContext, type Faults, type RecoveryConfig } from './context';
import { EventHub, type EngineEvent, type Listener } from './events';
import { ReceiveQueue } from './receive-queue';
import { browserLocks, DriverLock, TabChannel, type LockManagerLike, type SealedTabMessage } from './lock';
import { openBytes, sealBytes } from '../storage/record-seal';
import { flushOutbox } from './outbox';
import { WithdrawalRetry, sendWithdrawals } from './blob-withdrawals';
import { Backoff } from './backoff';
import { maintainPreKeys } from './prekey-pool';
import { EngineStorage } from './engine-storage';
import { startExpiry, stopExpiry } from './expiry';
import * as profiles from './profiles';
import type { ProfileTransport } from './profile-transport';
import * as pin from './pin/pin';
import { restoreAccount as restoreFromPin } from './pin/restore';
import { mayRetryPendingGroups, retryPendingGroups } from './pin/pending-groups';
import type { Envelope, HostTransport, SealedEnvelope } from './transport';
import { publishSealedAccess } from './sealed-access';
import { isEngineError } from './errors';
import * as appLock from './app-lock';
import { LockSession, type LockMethod } from './lock-session';
import { forgetMemorySecrets } from './memory-secrets';
import { deleteRetiredBlobs } from './retired-blobs';
import type { SealedSenderTrust } from '../../src/lib/crypto/certificates';

export interface EngineOptions {
  transport: HostTransport;
  /** IndexedDB database name (one per browser profile; tests use one per user). */
  dbName?: string;
  deps?: Deps;
  /** Lock manager for the driver lock; default: the browser's Web Locks. With none, no tab drives (P18). */
  locks?: LockManagerLike;
  faults?: Faults;
  /** First retry delay when the host is unreachable (doubles up to 30 s). */
  retryMs?: number;
  /** PIN recovery realms (DESIGN.md §7); without them the PIN methods answer NotInitialized. */
  recovery?: RecoveryConfig;
  /** Delay before the account record is re-uploaded after contacts change (default 2 s). */
  recordDebounceMs?: number;
  /** App lock Argon2id cost and floor (P46); production always uses the pinned one. Tests only. */
  appLockKdf?: appLock.LockKdf;
  /** Sealed sender's trust root pinned in the build (P41); default: pinned on first use. */
  sealedTrust?: SealedSenderTrust;
  /** Profile blobs on the host (P43); without it profiles stay on this device. */
  profiles?: ProfileTransport;
  /** Encrypted username links on the host (README "Design: private discovery"). */
  usernameLinks?: ProfileTransport;
}

/** The contract's methods the engine serves; the worker adds the rest (workers/engine/vault-api.ts). */
export type EngineApi = Omit<VaultContract, 'ready' | 'selfTest' | 'subscribe' | 'unsubscribe' | LockMethod>;

const MAX_RETRY_MS = 30_000;
/** Associated-data name for sealed tab-channel messages: no store has it, so no row can pass for one. */
const TAB_CHANNEL_STORE = 'tab-channel';

/**
 * The contract's methods live in thin facades, stacked only because a class has one base (each
 * `extends` the one before it): engine-recovery.ts (PIN) < engine-profiles.ts < engine-groups.ts
 * < engine-group-invites.ts < engine-group-info.ts < engine-group-actions.ts < engine-messages.ts < engine-requests.ts < engine-chats.ts
 * < engine-calls.ts < engine-disappearing.ts < engine-push.ts < engine-storage.ts < Engine. One class still implements the whole contract. A new facade extends
 * the last one and Engine extends it; Engine itself keeps construction, lifecycle (tabs, driver
 * lock, connection) and wiring.
 */
export class Engine extends EngineStorage implements EngineApi {
  private readonly events: EventHub;
  /** Pushed envelopes, handled a page per transaction (receive-queue.ts). */
  private readonly inbox: ReceiveQueue;
  private readonly remote = new WeakSet<EngineEvent>();
  private lock?: DriverLock;
  private channel?: TabChannel;
  private unforwardEvents?: () => void;
  private wantConnected = false;
  private flushQueued = false;
  /** The outbox flush retried while the host is unreachable: doubling up to MAX_RETRY_MS. */
  private readonly retry: Backoff;
  private inFlight = 0;
  private signedOut = false;
  private recordTimer?: ReturnType<typeof setTimeout>;
  private recordDigest?: string;
  private readonly withdrawals: WithdrawalRetry;
  /** P46: the app lock's lifecycle in this tab and its contract methods (lock-session.ts). */
  readonly locks: LockSession;

  private constructor(
    readonly ctx: EngineContext,
    private readonly opts: EngineOptions
  ) {
    super();
    this.retry = new Backoff(opts.retryMs ?? 1000, MAX_RETRY_MS, () => this.wantConnected);
    // Deletes the host has not confirmed: attachment blobs, then profile and username-link blobs
    // a block or a reset left behind (retired-blobs.ts). A pass never rejects.
    const owedDeletes = async () => {
      const blobs = await sendWithdrawals(ctx);
      const retired = await deleteRetiredBlobs(ctx).catch(() => false);
      return blobs || retired;
    };
    this.withdrawals = new WithdrawalRetry(owedDeletes, opts.retryMs ?? 1000, () => this.wantConnected, (p) => this.track(p));
    this.events = ctx.events;
    this.inbox = new ReceiveQueue(ctx, (env, e) => {
      // Not acked: the host redelivers it after reconnect. Only the code is reported (P41: a sealed one names no sender).
      this.events.emit({ type: 'receive-error', username: 'sealed' in env ? ('' as Username) : env.sender, code: isCodedError(e) ? e.code : 'Internal' });
    });
    this.locks = new LockSession(
      {
        ctx,
        startTabs: () => this.startTabs(),
        stopTabs: () => this.stopTabs(),
        tellTabsToLock: () => this.channel?.post({ kind: 'event', event: { type: 'locked' } }),
        wantsConnection: () => this.wantConnected,
        connect: () => this.connect(),
        disconnect: () => this.disconnect(),
        settle: () => this.settle(),
        resetLocalData: () => this.resetLocalData(),
        endCallForLock: () => this.endCallForLock(),
        forgetCallEnding: () => this.forgetCallEnding()
      },
      opts.appLockKdf ?? appLock.DEFAULT_LOCK_KDF
    );
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    const vault = await loadVault(opts.dbName ?? 'parley');
    const locks = opts.locks ?? browserLocks();
    if (locks) vault.locks = locks;
    // Parts of file copies a closed tab left unfinished (file-repo.ts); they open nothing, but take
    // room. Skipped while another tab writes a copy (copy-lock.ts).
    if (!vault.lost) await sweepUnfinishedFiles(vault).catch(() => 0);
    const serial = serialQueue();
    const engine: Engine = new Engine(
      {
        vault,
        transport: opts.transport,
        deps: opts.deps ?? systemDeps,
        events: new EventHub(),
        faults: opts.faults ?? {},
        ...(opts.recovery ? { recovery: opts.recovery } : {}),
        ...(opts.sealedTrust ? { sealedTrust: opts.sealedTrust } : {}),
        ...(opts.profiles ? { profiles: opts.profiles } : {}),
        ...(opts.usernameLinks ? { usernameLinks: opts.usernameLinks } : {}),
        connection: 'offline',
        driver: false,
        serial: (step) => engine.track(serial(step)),
        kickOutbox: () => engine.kickOutbox(),
        kickWithdrawals: (later) => (later ? engine.withdrawals.later() : engine.withdrawals.kick())
      },
      opts
    );
    // P46: a locked vault holds no key: the account loads when it is unlocked.
    if (!vault.locked && (await account.loadAccount(engine.ctx))) engine.startTabs();
    engine.locks.start();
    return engine;
  }

  // ---- account ----

  async createAccount(raw: string): Promise<AccountView> {
    // P33: a lost vault is restored or explicitly reset, never silently given a new identity.
    assertUsable(this.ctx.vault);
    const r = await account.createAccount(this.ctx, raw);
    this.startTabs();
    return r;
  }

  /** Throws StorageLost if local storage was lost (P33): the UI routes to restore. */
  async account(): Promise<AccountView | null> {
    assertUsable(this.ctx.vault);
    if (!this.ctx.me) return null;
    return this.signedOut ? { username: this.ctx.me.username, signedOut: true } : { username: this.ctx.me.username };
  }

  async checkUsername(raw: string): Promise<Availability> {
    let username: Username;
    try {
      username = account.canonicalUsername(raw);
    } catch {
      return { kind: 'invalid', reason: `Use ${USERNAME_MIN}–${USERNAME_MAX} letters, digits, _ or .` };
    }
    return (await this.ctx.transport.usernameAvailable(username)) ? { kind: 'available' } : { kind: 'taken' };
  }

  // ---- PIN recovery (DESIGN.md §7; the rest in engine-recovery.ts) ----

  /** A fresh (or lost, P33) vault becomes the account again; the old browser is signed out. */
  async restoreAccount(raw: string, value: string): Promise<RestoreOutcome> {
    const r = await restoreFromPin(this.ctx, raw, value);
    if (r.status === 'restored') this.startTabs();
    return r;
  }

  subscribe(listener: Listener): () => void {
    return this.events.subscribe(listener);
  }

  // ---- connection ----

  async connect(): Promise<void> {
    this.wantConnected = true;
    if (this.ctx.driver) this.openConnection();
  }

  async disconnect(): Promise<void> {
    this.wantConnected = false;
    this.ctx.transport.disconnect();
    // P46: profile and username-link requests waiting on the host end with the socket
    // (memory-secrets.ts cuts them again once the keys are gone).
    this.ctx.profiles?.cut();
    this.ctx.usernameLinks?.cut();
    this.retry.stop();
    clearTimeout(this.recordTimer);
    this.withdrawals.stop();
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
    stopExpiry(this.ctx);
    await this.settle();
    this.lock?.close();
    this.channel?.close();
    this.locks.close();
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
    this.stopTabs();
    this.ctx.me = undefined;
    forgetMemorySecrets(this.ctx);
    await resetVault(this.ctx.vault);
  }

  // ---- app lock (SECURITY.md P46): its contract methods are served by lock-session.ts ----

  /** The account left this browser (Sign out elsewhere, Remove): nothing answers any more. */
  get removed(): boolean {
    return this.locks.removed;
  }

  private stopTabs(): void {
    stopExpiry(this.ctx);
    this.unforwardEvents?.();
    this.unforwardEvents = undefined;
    this.lock?.close();
    this.lock = undefined;
    this.channel?.close();
    this.channel = undefined;
    this.ctx.driver = false;
  }

  // ---- internals ----

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    return p.finally(() => this.inFlight--);
  }

  /**
   * After an account exists: join the tab group and ask to drive (lock.ts, P18). Channel messages
   * are sealed under the vault's data key, so only this account's vault workers can post one; a
   * message that does not open, is stale, replayed or malformed is dropped, never emitted (P31).
   */
  private startTabs(): void {
    if (this.lock) return;
    // P44: remove what expired while the browser was closed, then follow the timers (expiry.ts).
    void startExpiry(this.ctx).catch(() => undefined);
    const username = this.ctx.me!.username;
    const name = `parley-tabs:${username}`;
    const db = this.ctx.vault.db;
    const sealer = {
      seal: (plaintext: Uint8Array) => sealBytes(db, TAB_CHANNEL_STORE, name, plaintext),
      open: (sealed: SealedTabMessage) => openBytes(db, TAB_CHANNEL_STORE, name, sealed)
    };
    this.channel = new TabChannel(name, sealer, (m) => {
      if (m.kind === 'kick') this.kickOutbox();
      else {
        this.remote.add(m.event);
        this.events.emit(m.event);
      }
    });
    this.unforwardEvents = this.events.subscribe((e) => {
      // Roles and unlocking are this tab's own business; everything else the followers hear.
      if (e.type !== 'role' && e.type !== 'unlocked' && !this.remote.has(e)) this.channel?.post({ kind: 'event', event: e });
      // P46: the tabs of one account lock, re-key and leave together.
      if (this.remote.has(e) && e.type === 'locked') void this.locks.lock(false);
      if (this.remote.has(e) && e.type === 'removed') void this.locks.shutDown();
      // A follower tab learns it from its driver; a driver only from its own socket (in tests,
      // where every "browser" shares one BroadcastChannel, the old driver's news must not stop the new).
      if (e.type === 'signed-out' && (!this.remote.has(e) || !this.ctx.driver)) this.signedOut = true;
      // Contacts (their profile keys), settings, groups or our profile may have changed: refresh the account record (DESIGN.md §7).
      if (e.type === 'identity' || e.type === 'chats' || e.type === 'group' || e.type === 'profile') this.scheduleRecordUpload();
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
      envelope: (env) => this.receive(env),
      signedOut: () => {
        this.signedOut = true;
        this.wantConnected = false;
        this.retry.stop();
        clearTimeout(this.recordTimer);
        this.events.emit({ type: 'signed-out' });
      },
      state: (s) => {
        this.ctx.connection = s;
        this.events.emit({ type: 'connection', state: s });
        if (s === 'online') {
          this.retry.reset();
          this.kickOutbox();
          this.ctx.serial(() => maintainPreKeys(this.ctx)).catch(() => undefined);
          // Deletes the host did not confirm (made offline, or cut off): try them again.
          this.withdrawals.kick();
          // P41: the host admits sealed mail with our current delivery-token verifier.
          publishSealedAccess(this.ctx).catch(() => undefined);
          // P43: publish what an offline edit left unpublished; pick up contacts' renames.
          void this.track(profiles.publishProfile(this.ctx).then(() => profiles.refreshAllProfiles(this.ctx))).catch(() => undefined);
          // Groups a restore could not fetch: try again, through the same trusted-head check (P19),
          // at most once a minute however often the host drops and restores the socket.
          if (mayRetryPendingGroups(this.ctx)) void this.track(this.ctx.serial(() => retryPendingGroups(this.ctx))).catch(() => undefined);
        }
      }
    });
  }

  /** Plain and sealed (P41) envelopes alike wait for the paged, commit-then-ack receive (receive-queue.ts). */
  private receive(env: Envelope | SealedEnvelope): void {
    this.inbox.push(env);
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
    this.retry.schedule(() => this.kickOutbox());
  }
}

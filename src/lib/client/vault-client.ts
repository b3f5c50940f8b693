/**
 * The one owner of the vault worker on the main thread (DESIGN.md §1, §2 `client/`).
 *
 * Starts the module worker, wraps it with Comlink and turns each `Result<T>` back into either a
 * value or a thrown `VaultError` whose `code` the UI can switch on. Holds no key material: the
 * worker API only ever returns plain, public data.
 */
import { proxy, wrap, releaseProxy, type Remote } from 'comlink';
import type { VaultApi, VaultInfo } from '../../../workers/engine/vault-api';
import type { SelfTestReport } from '../../../workers/engine/self-test';
import type { Vault } from './vault';
import { unwrap, VaultError } from '../vault/result';
import type { AccountView, Availability, CallLogEntry, ChatView, ContactView, IceServers, MessageView, PinStatus, PinStrength, RestoreOutcome, VaultEvent } from './types';
import { toAvailability, toChatView, toContactView, toMessageView, toVaultEvent } from './views';

export type { VaultInfo, SelfTestReport };
export { VaultError };

export class VaultClient implements Vault {
  readonly #worker: Worker;
  readonly #api: Remote<VaultApi>;

  constructor() {
    // The literal `new URL(…, import.meta.url)` is what lets Vite bundle the worker.
    this.#worker = new Worker(new URL('../../../workers/vault.worker.ts', import.meta.url), { type: 'module' });
    this.#api = wrap<VaultApi>(this.#worker);
  }

  /** Resolves once libsodium is loaded inside the worker. */
  async ready(): Promise<VaultInfo> {
    return unwrap(await this.#api.ready());
  }

  /** Round-trips `text` through a throw-away PQXDH + Double Ratchet session inside the worker. */
  async selfTest(text: string): Promise<SelfTestReport> {
    return unwrap(await this.#api.selfTest(text));
  }

  async account(): Promise<AccountView | undefined> {
    return unwrap(await this.#api.account()) ?? undefined;
  }

  async checkUsername(name: string): Promise<Availability> {
    return toAvailability(unwrap(await this.#api.checkUsername(name)));
  }

  async createAccount(username: string): Promise<AccountView> {
    return unwrap(await this.#api.createAccount(username));
  }

  // ---- PIN recovery (issue 5) ----

  async checkPinStrength(pin: string): Promise<PinStrength> {
    return unwrap(await this.#api.checkPinStrength(pin));
  }

  async setupPin(pin: string): Promise<PinStatus> {
    return unwrap(await this.#api.setupPin(pin));
  }

  async changePin(pin: string): Promise<PinStatus> {
    return unwrap(await this.#api.changePin(pin));
  }

  async disablePin(): Promise<PinStatus> {
    return unwrap(await this.#api.disablePin());
  }

  async pinStatus(): Promise<PinStatus> {
    return unwrap(await this.#api.pinStatus());
  }

  async checkPinReminder(pin: string): Promise<{ correct: boolean; status: PinStatus }> {
    return unwrap(await this.#api.checkPinReminder(pin));
  }

  async restoreAccount(username: string, pin: string): Promise<RestoreOutcome> {
    return unwrap(await this.#api.restoreAccount(username, pin));
  }

  async resetLocalData(): Promise<void> {
    unwrap(await this.#api.resetLocalData());
  }

  async lookupUser(username: string): Promise<{ username: string }> {
    return unwrap(await this.#api.lookupUser(username));
  }

  async listChats(): Promise<ChatView[]> {
    return unwrap(await this.#api.listChats()).map(toChatView);
  }

  async listMessages(chat: string): Promise<MessageView[]> {
    return unwrap(await this.#api.listMessages(chat)).map(toMessageView);
  }

  async sendText(chat: string, text: string): Promise<MessageView> {
    return toMessageView(unwrap(await this.#api.sendText(chat, text)));
  }

  async markRead(chat: string): Promise<void> {
    unwrap(await this.#api.markRead(chat));
  }

  async contactInfo(username: string): Promise<ContactView> {
    return toContactView(unwrap(await this.#api.contactInfo(username)));
  }

  async markVerified(username: string, scannedQr?: string): Promise<void> {
    unwrap(await this.#api.markVerified(username, scannedQr));
  }

  async acceptIdentityChange(username: string): Promise<void> {
    unwrap(await this.#api.acceptIdentityChange(username));
  }

  async block(username: string): Promise<void> {
    unwrap(await this.#api.block(username));
  }

  async unblock(username: string): Promise<void> {
    unwrap(await this.#api.unblock(username));
  }

  async connect(): Promise<void> {
    unwrap(await this.#api.connect());
  }

  async disconnect(): Promise<void> {
    unwrap(await this.#api.disconnect());
  }

  async sendCallSignal(chat: string, signal: Uint8Array): Promise<void> {
    unwrap(await this.#api.sendCallSignal(chat, signal));
  }

  async recordCall(chat: string, entry: CallLogEntry): Promise<void> {
    unwrap(await this.#api.recordCall(chat, entry));
  }

  async iceServers(): Promise<IceServers> {
    return unwrap(await this.#api.iceServers());
  }

  /** The listener runs on the main thread; Comlink proxies each event call across. */
  async subscribe(listener: (event: VaultEvent) => void): Promise<() => void> {
    const id = unwrap(
      await this.#api.subscribe(
        proxy((event) => {
          const view = toVaultEvent(event);
          if (view) listener(view);
        })
      )
    );
    return () => void this.#api.unsubscribe(id);
  }

  terminate(): void {
    this.#api[releaseProxy]();
    this.#worker.terminate();
  }
}

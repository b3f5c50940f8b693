/**
 * The vault API: every operation the main thread may ask of the key-holding worker (DESIGN.md §1
 * "Keys never leave the vault worker"). Methods take and return plain data, never key bytes, and
 * always resolve to a Result so error codes survive Comlink (see result.ts).
 *
 * Issue 2 surface: `ready` and `selfTest`. Issue 3 adds the messaging surface, each method a thin
 * delegation to the Engine (opened lazily, once per worker); event listeners arrive as Comlink
 * proxies and are kept by id so the page can unsubscribe.
 */
import { systemDeps } from '../../src/lib/crypto/deps';
import { fail } from '../../src/lib/codec/errors';
import type { Result } from '../../src/lib/vault/result';
import { initSodium } from '../../src/lib/crypto/sodium';
import { Engine, type ChatSummary, type MessageView } from './engine';
import { HostHttpTransport } from './host-transport';
import type { ContactInfo } from './contacts';
import type { CallLogEntry } from './calls';
import type { IceServers } from './transport';
import type { EngineEvent } from './events';
import { toResult } from '../../src/lib/vault/result';
import { runSelfTest, type SelfTestReport } from './self-test';
import { checkPinStrength, type PinStrength } from '../../src/lib/crypto/pin/normalize';
import { PINNED_THRESHOLD, pinnedRealmEndpoints } from '../../src/lib/config/realms';
import type { PinStatus } from './pin/pin';
import type { RestoreOutcome } from './pin/restore';

export type { CallLogEntry, ChatSummary, ContactInfo, EngineEvent, IceServers, MessageView, PinStatus, PinStrength, RestoreOutcome };
export type UsernameCheck = { username: string; valid: boolean; available: boolean };

/** Bumped when the API shape changes, so a stale cached worker is noticed. */
export const VAULT_API_VERSION = 1;

export interface VaultInfo {
  version: number;
  /** libsodium's version string: proves the wasm module is loaded. */
  sodium: string;
}

export class VaultApi {
  readonly #openEngine: () => Promise<Engine>;
  #engine: Promise<Engine> | undefined;
  readonly #listeners = new Map<number, () => void>();
  #nextListener = 1;

  /** `openEngine` builds the Engine on first use; the default talks to the host that served the app. */
  constructor(openEngine: () => Promise<Engine> = openHostEngine) {
    this.#openEngine = openEngine;
  }

  /** Runs `body` against the engine, opening it on first use (a failed open is retried next call). */
  #with<T>(body: (engine: Engine) => T | Promise<T>): Promise<Result<T>> {
    return toResult<T>(async () => {
      await initSodium();
      this.#engine ??= this.#openEngine().catch((e: unknown) => {
        this.#engine = undefined;
        throw e;
      });
      return await body(await this.#engine);
    });
  }

  account(): Promise<Result<{ username: string; signedOut?: true } | null>> {
    return this.#with((e) => e.account());
  }

  checkUsername(name: string): Promise<Result<UsernameCheck>> {
    return this.#with((e) => e.checkUsername(name));
  }

  createAccount(username: string): Promise<Result<{ username: string }>> {
    return this.#with((e) => e.createAccount(username));
  }

  /** P33: erases this device's vault (after `account()` answered StorageLost and the user chose to start over). */
  resetLocalData(): Promise<Result<void>> {
    return this.#with((e) => e.resetLocalData());
  }

  // ---- PIN recovery (issue 5) ----

  /** The strength rule, for live feedback while typing (no state, no network). */
  checkPinStrength(pin: string): Promise<Result<PinStrength>> {
    return toResult(() => checkPinStrength(pin));
  }

  setupPin(pin: string): Promise<Result<PinStatus>> {
    return this.#with((e) => e.setupPin(pin));
  }

  changePin(pin: string): Promise<Result<PinStatus>> {
    return this.#with((e) => e.changePin(pin));
  }

  disablePin(): Promise<Result<PinStatus>> {
    return this.#with((e) => e.disablePin());
  }

  pinStatus(): Promise<Result<PinStatus>> {
    return this.#with((e) => e.pinStatus());
  }

  checkPinReminder(pin: string): Promise<Result<{ correct: boolean; status: PinStatus }>> {
    return this.#with((e) => e.checkPinReminder(pin));
  }

  /** On a new browser (or after StorageLost): username + PIN -> the account is back here. */
  restoreAccount(username: string, pin: string): Promise<Result<RestoreOutcome>> {
    return this.#with((e) => e.restoreAccount(username, pin));
  }

  lookupUser(username: string): Promise<Result<{ username: string }>> {
    return this.#with((e) => e.lookupUser(username));
  }

  listChats(): Promise<Result<ChatSummary[]>> {
    return this.#with((e) => e.listChats());
  }

  listMessages(chatId: string): Promise<Result<MessageView[]>> {
    return this.#with((e) => e.listMessages(chatId));
  }

  sendText(chatId: string, text: string): Promise<Result<MessageView>> {
    return this.#with((e) => e.sendText(chatId, text));
  }

  markRead(chatId: string): Promise<Result<number>> {
    return this.#with((e) => e.markRead(chatId));
  }

  contactInfo(username: string): Promise<Result<ContactInfo>> {
    return this.#with((e) => e.contactInfo(username));
  }

  markVerified(username: string, scannedQr?: string): Promise<Result<ContactInfo>> {
    return this.#with((e) => e.markVerified(username, scannedQr));
  }

  acceptIdentityChange(username: string): Promise<Result<ContactInfo>> {
    return this.#with((e) => e.acceptIdentityChange(username));
  }

  block(username: string): Promise<Result<void>> {
    return this.#with((e) => e.block(username));
  }

  unblock(username: string): Promise<Result<void>> {
    return this.#with((e) => e.unblock(username));
  }

  connect(): Promise<Result<void>> {
    return this.#with((e) => e.connect());
  }

  disconnect(): Promise<Result<void>> {
    return this.#with((e) => e.disconnect());
  }

  // ---- calls (issue 4): signals travel inside the ratchet; the log is a conversation entry ----

  sendCallSignal(chatId: string, signal: Uint8Array): Promise<Result<void>> {
    return this.#with((e) => e.sendCallSignal(chatId, signal));
  }

  recordCall(chatId: string, entry: CallLogEntry): Promise<Result<void>> {
    return this.#with((e) => e.recordCall(chatId, entry));
  }

  iceServers(): Promise<Result<IceServers>> {
    return this.#with((e) => e.iceServers());
  }

  /** `listener` is a Comlink proxy from the page; returns an id for `unsubscribe`. */
  subscribe(listener: (event: EngineEvent) => void): Promise<Result<number>> {
    return this.#with((e) => {
      const id = this.#nextListener++;
      // A closed page's proxy rejects: swallow it so one dead listener never disturbs the engine.
      this.#listeners.set(id, e.subscribe((event) => void Promise.resolve(listener(event)).catch(() => undefined)));
      return id;
    });
  }

  unsubscribe(id: number): Promise<Result<void>> {
    return toResult(() => {
      this.#listeners.get(id)?.();
      this.#listeners.delete(id);
    });
  }

  ready(): Promise<Result<VaultInfo>> {
    return toResult(async () => {
      const s = await initSodium();
      return { version: VAULT_API_VERSION, sodium: s.sodium_version_string() };
    });
  }

  selfTest(text: string): Promise<Result<SelfTestReport>> {
    return toResult(async () => {
      await initSodium();
      return runSelfTest(text, systemDeps);
    });
  }
}

/** The worker's origin is the host's: the vault talks only to the host that served the app. */
function openHostEngine(): Promise<Engine> {
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (!origin) return fail('NotInitialized', 'no host origin to connect to');
  // The realm list is pinned in this build (DESIGN.md §7), never taken from the host.
  const realms = pinnedRealmEndpoints().map((r) => ({ id: r.id, url: new URL(r.url, origin).toString() }));
  return Engine.open({
    transport: new HostHttpTransport(origin),
    recovery: { realms, threshold: PINNED_THRESHOLD, fetch: (url, init) => globalThis.fetch(url, init) }
  });
}

/**
 * The engine's call methods (DESIGN.md §6): the contract's thin facade over calls.ts and the
 * host's ICE server endpoint. Engine (engine.ts) inherits them, so the vault contract stays one
 * class the worker delegates to (vault-api.ts). Its one state is the ending the page armed for
 * the call on screen, carried out when the vault locks (lock-session.ts); it knows nothing of
 * connections, tabs or the driver lock.
 */
import type { CallEnding, CallLogEntry, IceServers } from '../../src/lib/vault/views';
import * as account from './account';
import { armedEnding, endCallForLock, endsCall, queueCallSignal, recordCall, type ArmedEnding } from './calls';
import { EngineChats } from './engine-chats';

export abstract class EngineCalls extends EngineChats {
  /** The call on screen's ending should the vault lock under it (README "Calls and the lock"). */
  #armedCall: ArmedEnding | undefined;
  /** The call the last lock ended: the page's own end for it, arriving after, is not sent twice. */
  #endedAtLock: string | undefined;

  async sendCallSignal(raw: string, signal: Uint8Array): Promise<void> {
    if (this.#endedAtLock !== undefined && endsCall(signal, this.#endedAtLock)) return;
    return queueCallSignal(this.ctx, account.canonicalUsername(raw), signal);
  }

  recordCall(raw: string, entry: CallLogEntry): Promise<void> {
    return recordCall(this.ctx, account.canonicalUsername(raw), entry);
  }

  async armCallEnding(raw: string, ending: CallEnding | null): Promise<void> {
    this.#armedCall = ending ? armedEnding(account.canonicalUsername(raw), ending) : undefined;
    if (ending) this.#endedAtLock = undefined;
  }

  /** The lock is coming (lock-session.ts): the armed call ends now, while the keys are here. */
  protected async endCallForLock(): Promise<void> {
    const armed = this.#armedCall;
    this.#armedCall = undefined;
    if (!armed || !this.ctx.me) return;
    this.#endedAtLock = armed.ending.entry.callId;
    await endCallForLock(this.ctx, armed);
  }

  /** The account leaves this browser: nothing is sent, and nothing of the call stays in memory. */
  protected forgetCallEnding(): void {
    this.#armedCall = undefined;
    this.#endedAtLock = undefined;
  }

  /** ICE servers (with short-lived TURN credentials) from the host, for authenticated accounts. */
  async iceServers(): Promise<IceServers> {
    const me = this.ctx.me;
    if (!me || !this.ctx.transport.iceServers) return { iceServers: [], expiresAt: null };
    return this.ctx.transport.iceServers(account.hostAuth(me));
  }
}

/**
 * The engine's call methods (DESIGN.md §6): the contract's thin facade over calls.ts and the
 * host's ICE server endpoint. Engine (engine.ts) inherits them, so the vault contract stays one
 * class the worker delegates to (vault-api.ts). Owns no state; knows nothing of connections,
 * tabs or the driver lock.
 */
import type { CallLogEntry, IceServers } from '../../src/lib/vault/views';
import * as account from './account';
import { queueCallSignal, recordCall } from './calls';
import { EngineChats } from './engine-chats';

export abstract class EngineCalls extends EngineChats {
  sendCallSignal(raw: string, signal: Uint8Array): Promise<void> {
    return queueCallSignal(this.ctx, account.canonicalUsername(raw), signal);
  }

  recordCall(raw: string, entry: CallLogEntry): Promise<void> {
    return recordCall(this.ctx, account.canonicalUsername(raw), entry);
  }

  /** ICE servers (with short-lived TURN credentials) from the host, for authenticated accounts. */
  async iceServers(): Promise<IceServers> {
    const me = this.ctx.me;
    if (!me || !this.ctx.transport.iceServers) return { iceServers: [], expiresAt: null };
    return this.ctx.transport.iceServers(account.hostAuth(me));
  }
}

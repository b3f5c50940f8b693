/**
 * Typed events the UI subscribes to (through the worker). Events carry plain data the UI may
 * show — ids, usernames, codes — never key bytes. Follower tabs receive the same events over a
 * BroadcastChannel (lock.ts), so every event must be structured-cloneable.
 */
import type { ConnectionState } from './transport';
import type { MessageStatus } from '../storage/schema';

export type EngineEvent =
  | { type: 'message'; chatId: string; key: string }
  | { type: 'status'; chatId: string; key: string; status: MessageStatus }
  | { type: 'chats' }
  | { type: 'identity'; username: string }
  | { type: 'connection'; state: ConnectionState }
  | { type: 'receive-error'; sender: string; code: string }
  | { type: 'role'; role: 'driver' | 'follower' }
  /** Another browser restored this account (issue 5): this one stops for good. */
  | { type: 'signed-out' }
  /** A call signal from `chatId` (issue 4): opaque bytes, decoded by the call controller. */
  | { type: 'call'; chatId: string; signal: Uint8Array };

export type Listener = (e: EngineEvent) => void;

export class EventHub {
  private listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener must not stop delivery to the others or the engine.
      }
    }
  }
}

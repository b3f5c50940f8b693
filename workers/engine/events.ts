/**
 * The events the engine emits: the contract's VaultEvents (src/lib/vault/views.ts), which reach
 * the page through the worker, plus the engine's internal tab-role changes, which do not. Events
 * carry plain data the UI may show — ids, usernames, codes — never key bytes. Follower tabs
 * receive the same events over a BroadcastChannel (lock.ts), so every event must be
 * structured-cloneable.
 */
import type { VaultEvent } from '../../src/lib/vault/views';

export type EngineEvent = VaultEvent | { type: 'role'; role: 'driver' | 'follower' };

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

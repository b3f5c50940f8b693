/**
 * The engine's Web Push methods (README "Web Push with the tab closed"): the contract's thin
 * facade over push-client.ts. Engine (engine.ts) inherits it. Owns no state: whether this browser
 * is subscribed is the service worker registration's own (src/lib/client/pwa/closed-push.ts).
 */
import { EngineDisappearing } from './engine-disappearing';
import { registerPush, unregisterPush } from './push-client';

export abstract class EnginePush extends EngineDisappearing {
  /** Registers this browser's push endpoint for the account (the host keeps a few per account). */
  registerPush(endpoint: string): Promise<void> {
    return registerPush(this.ctx, endpoint);
  }

  /** Deletes it from the host (already gone counts as done). */
  unregisterPush(endpoint: string): Promise<void> {
    return unregisterPush(this.ctx, endpoint);
  }
}

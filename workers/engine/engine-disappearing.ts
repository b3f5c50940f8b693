/**
 * The engine's disappearing-messages method (SECURITY.md P44; README "Disappearing messages"):
 * the contract's thin facade over disappearing.ts. Engine (engine.ts) inherits it, so the vault
 * contract stays one class the worker delegates to (vault-api.ts). Owns no state; the sweep's
 * timers are expiry.ts's, started and stopped with the tabs in engine.ts.
 */
import type { Username } from '../../src/lib/codec/username';
import { canonicalUsername } from './account';
import { setDisappearing } from './disappearing';
import { EngineCalls } from './engine-calls';

export abstract class EngineDisappearing extends EngineCalls {
  /** Sets the chat's timer in seconds (0 = off, else 5 min … 4 weeks) for both sides. */
  setDisappearing(raw: Username | string, seconds: number): Promise<void> {
    return setDisappearing(this.ctx, canonicalUsername(raw), seconds);
  }
}

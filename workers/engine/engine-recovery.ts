/**
 * The engine's PIN recovery methods (DESIGN.md §7; SECURITY.md P37, P38): the contract's thin
 * facade over pin/pin.ts. Engine (engine.ts) inherits them (restoring, which starts the tabs,
 * stays there), so the vault contract stays one class the worker delegates to (vault-api.ts).
 * Owns no state; knows nothing of connections, tabs or the driver lock.
 */
import type { PinChangeOutcome, PinStatus, PinStrength, RecoveryHealth, RecoveryProblem } from '../../src/lib/vault/views';
import type { EngineContext } from './context';
import * as pin from './pin/pin';
import { pendingGroups } from './pin/pending-groups';

export abstract class EngineRecovery {
  abstract readonly ctx: EngineContext;

  setupPin(value: string): Promise<PinStatus> {
    return pin.setupPin(this.ctx, value);
  }

  /** P37: the current secret is needed (this browser does not keep the master secret). */
  changePin(current: string, next: string): Promise<PinChangeOutcome> {
    return pin.changePin(this.ctx, current, next);
  }

  /** P38: the acceptance rule for a new recovery secret with this deployment's realms. */
  checkPinStrength(value: string): Promise<PinStrength> {
    return pin.checkSecret(this.ctx, value);
  }

  async newRecoveryKey(): Promise<string> {
    return pin.newRecoveryKey(this.ctx);
  }

  /** P38: wrong guesses and lost shares as the realms report them. */
  recoveryHealth(): Promise<RecoveryHealth | null> {
    return pin.recoveryHealth(this.ctx);
  }

  disablePin(): Promise<PinStatus> {
    return pin.disablePin(this.ctx);
  }

  /** Groups a restore could not fetch yet (pin/pending-groups.ts). */
  async groupsPendingRestore(): Promise<number> {
    return (await pendingGroups(this.ctx)).length;
  }

  pinStatus(): Promise<PinStatus> {
    return pin.pinStatus(this.ctx);
  }

  checkPinReminder(value: string): Promise<{ correct: boolean; status: PinStatus; problem?: RecoveryProblem }> {
    return pin.checkPinReminder(this.ctx, value);
  }
}

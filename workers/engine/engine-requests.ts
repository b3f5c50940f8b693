/**
 * The engine's sealed-sender, blocking and message-request methods (SECURITY.md P41 sealed
 * sender, P42 message requests and group requests, P43 blocking re-keys the profile): the
 * contract's thin facade over contacts.ts, requests.ts, group-requests.ts, profiles.ts and
 * sealed-access.ts. Engine (engine.ts) inherits
 * them, so the vault contract stays one class the worker delegates to (vault-api.ts). Owns no
 * state; knows nothing of connections, tabs or the driver lock.
 */
import type { PrivacySettings } from '../../src/lib/vault/views';
import * as account from './account';
import * as contacts from './contacts';
import { EngineMessages } from './engine-messages';
import * as profiles from './profiles';
import * as requests from './requests';
import * as groupRequests from './group-requests';
import { requireGroup } from './group-ops';
import { fail } from '../../src/lib/codec/errors';
import { sendTyping } from './typing';
import { publishSealedAccess } from './sealed-access';

export abstract class EngineRequests extends EngineMessages {
  /**
   * P43: blocking also rotates our profile key and re-shares it with everyone else; P41: the host
   * then admits sealed mail only with the new key's token (offline: set on the next connect).
   */
  async block(raw: string): Promise<void> {
    await contacts.setBlocked(this.ctx, raw, true);
    await profiles.rotateOnBlock(this.ctx, account.canonicalUsername(raw));
    await publishSealedAccess(this.ctx).catch(() => undefined);
  }

  unblock(raw: string): Promise<void> {
    return contacts.setBlocked(this.ctx, raw, false);
  }

  // ---- message requests (P42) ----

  acceptRequest(raw: string): Promise<void> {
    return requests.acceptRequest(this.ctx, raw);
  }

  deleteRequest(raw: string): Promise<void> {
    return requests.deleteRequest(this.ctx, raw);
  }

  /** P42 group requests (group-requests.ts): Block blocks the adder (rotating our profile key) and leaves. */
  async answerGroupRequest(id: string, answer: 'accept' | 'delete' | 'block'): Promise<void> {
    if (answer === 'accept') return groupRequests.acceptGroupRequest(this.ctx, id);
    if (answer !== 'delete' && answer !== 'block') fail('InvalidArgument', 'a group request is answered accept, delete or block');
    const adder = (await requireGroup(this.ctx, id)).requestFrom;
    await groupRequests.deleteGroupRequest(this.ctx, id);
    if (answer !== 'block' || !adder) return;
    // Our leave goes out before the block, which would drop anything still queued for them: a
    // flush queued behind the serial queue has run once this empty step does (online, driving).
    this.ctx.kickOutbox();
    await this.ctx.serial(async () => undefined);
    await this.block(adder);
  }

  privacySettings(): Promise<PrivacySettings> {
    return requests.privacySettings(this.ctx);
  }

  setPrivacySettings(s: Partial<PrivacySettings>): Promise<PrivacySettings> {
    return requests.setPrivacySettings(this.ctx, s);
  }

  /** README "Typing indicators": sent sealed, only if allowed and possible now (typing.ts). */
  sendTyping(raw: string, typing: boolean): Promise<boolean> {
    return sendTyping(this.ctx, account.canonicalUsername(raw), typing);
  }
}

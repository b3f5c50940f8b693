/**
 * The engine's contact and chat-list methods (DESIGN.md §3, §8; SECURITY.md P12 verification):
 * the contract's thin facade over contacts.ts, sessions.ts and chat-flags.ts. Engine (engine.ts)
 * inherits them, so the vault contract stays one class the worker delegates to (vault-api.ts).
 * Owns no state; knows nothing of connections, tabs or the driver lock.
 */
import type { Username } from '../../src/lib/codec/username';
import { fail } from '../../src/lib/codec/errors';
import type { ChatFlags, ChatView, Comparison, ContactView } from '../../src/lib/vault/views';
import { listChats as listChatRecords } from '../storage/chat-repo';
import { deleteChat } from './chat-delete';
import { chatRoutes, MAX_ROUTES_ASKED, openChatRoute } from './chat-routes';
import { getContact, withAvatar } from '../storage/contact-repo';
import * as account from './account';
import * as chatFlags from './chat-flags';
import { lastOutgoingStatus } from './chat-ticks';
import * as contacts from './contacts';
import { EngineRequests } from './engine-requests';
import { sweepIfDue } from './expiry';
import * as profiles from './profiles';
import * as requests from './requests';
import { resetSessions } from './sessions';

export abstract class EngineChats extends EngineRequests {
  lookupUser(raw: string): Promise<{ username: Username }> {
    return contacts.lookupUser(this.ctx, raw);
  }

  async chatRoutes(raw: readonly string[]): Promise<string[]> {
    if (!Array.isArray(raw) || raw.length > MAX_ROUTES_ASKED) fail('InvalidArgument', `ask for at most ${MAX_ROUTES_ASKED} chat addresses at once`);
    return chatRoutes(this.ctx, raw.map((u) => account.canonicalUsername(u)));
  }

  openChatRoute(segment: string): Promise<Username | undefined> {
    if (typeof segment !== 'string') return Promise.resolve(undefined);
    return openChatRoute(this.ctx, segment);
  }

  contactInfo(raw: string): Promise<ContactView> {
    return contacts.contactInfo(this.ctx, raw);
  }

  markVerified(raw: string, compared: Comparison): Promise<ContactView> {
    return contacts.markVerified(this.ctx, raw, compared);
  }

  acceptIdentityChange(raw: string): Promise<ContactView> {
    return contacts.acceptIdentityChange(this.ctx, raw);
  }

  rejectIdentityChange(raw: string): Promise<ContactView> {
    return contacts.rejectIdentityChange(this.ctx, raw);
  }

  resetSession(raw: string): Promise<void> {
    const username = account.canonicalUsername(raw);
    return this.ctx.serial(() => resetSessions(this.ctx, username));
  }

  // ---- the chat list and its flags ----

  setChatFlags(raw: string, flags: Partial<ChatFlags>): Promise<void> {
    return chatFlags.setChatFlags(this.ctx, raw, flags);
  }

  deleteChat(raw: string): Promise<void> {
    return deleteChat(this.ctx, raw);
  }

  async listChats(): Promise<ChatView[]> {
    await sweepIfDue(this.ctx);
    const out: ChatView[] = [];
    // Deleted by the user (chat-delete.ts), until its next message.
    const shown = (await listChatRecords(this.ctx.vault)).filter((chat) => !chat.cleared);
    const routes = await chatRoutes(this.ctx, shown.map((chat) => chat.username));
    for (const [i, chat] of shown.entries()) {
      const read = await getContact(this.ctx.vault, chat.username);
      const c = read && (await withAvatar(this.ctx.vault, read));
      const lastStatus = await lastOutgoingStatus(this.ctx.vault, chat.username);
      out.push({
        username: chat.username,
        route: routes[i]!,
        ...(chat.lastPreview ? { lastPreview: chat.lastPreview } : {}),
        ...(chat.lastAt > 0 ? { lastAt: chat.lastAt } : {}),
        unread: chat.unread,
        missing: chat.missing,
        flags: chatFlags.chatFlagsOf(chat),
        disappearing: chat.disappearing ?? 0,
        verified: !!c?.verified && !c.pendingIdentity,
        blocked: !!c?.blocked,
        identityChanged: !!c && (c.identityChanged || !!c.pendingIdentity),
        request: requests.isRequest(c) && !c?.blocked,
        ...(c?.profile ? { profile: profiles.profileSummary(c)! } : {}),
        ...(lastStatus ? { lastStatus } : {})
      });
    }
    return out;
  }
}

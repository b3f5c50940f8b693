/**
 * The engine's one-to-one message methods (DESIGN.md §8; SECURITY.md P45 attachments, P47 message
 * actions): the contract's thin facade over outbox.ts, receipts.ts, attachments.ts and
 * message-actions.ts. Engine (engine.ts) inherits them, so the vault contract stays one class the
 * worker delegates to (vault-api.ts). Owns no state; knows nothing of connections, tabs or the
 * driver lock.
 */
import { fail } from '../../src/lib/codec/errors';
import type { EditVersionView, MessageCursor, MessagePage, MessageView, OpenedFile, OutgoingFile } from '../../src/lib/vault/views';
import { listMessages as listMessageRecords, pageMessages } from '../storage/message-repo';
import * as account from './account';
import * as attachments from './attachments';
import { EngineGroupActions } from './engine-group-actions';
import { sweepIfDue } from './expiry';
import * as actions from './message-actions';
import { queueText, sendAgain } from './outbox';
import { markRead } from './receipts';
import { toMessageView } from './views';

/** Messages per conversation page (a screen and a half), and the most one call may ask for. */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

export abstract class EngineMessages extends EngineGroupActions {
  async listMessages(raw: string): Promise<MessageView[]> {
    return actions.viewsWithQuotes(this.ctx.vault, await listMessageRecords(this.ctx.vault, account.canonicalUsername(raw)));
  }

  /** A page of the conversation (DESIGN.md §8): the newest, or the one before `before`. */
  async listMessagePage(raw: string, before?: MessageCursor, limit = DEFAULT_PAGE): Promise<MessagePage> {
    const username = account.canonicalUsername(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) fail('InvalidArgument', `page of ${limit} messages, expected 1..${MAX_PAGE}`);
    if (before !== undefined && (!Number.isSafeInteger(before.sortAt) || before.sortAt < 0 || typeof before.id !== 'string')) {
      fail('InvalidArgument', 'a page cursor is a message sort time and id');
    }
    await sweepIfDue(this.ctx);
    const page = await pageMessages(this.ctx.vault, username, limit, before && { sentAt: before.sortAt, key: before.id });
    return { messages: await actions.viewsWithQuotes(this.ctx.vault, page.records), older: page.older };
  }

  async sendText(raw: string, text: string): Promise<MessageView> {
    return toMessageView(await queueText(this.ctx, raw, text));
  }

  async sendAttachment(raw: string, file: OutgoingFile): Promise<MessageView> {
    return toMessageView(await attachments.sendAttachment(this.ctx, account.canonicalUsername(raw), file));
  }

  openAttachment(raw: string, id: string, transfer: string): Promise<OpenedFile> {
    return attachments.openAttachment(this.ctx, account.canonicalUsername(raw), id, transfer);
  }

  attachmentHeld(raw: string, id: string): Promise<number> {
    return attachments.attachmentHeld(this.ctx, account.canonicalUsername(raw), id);
  }

  async sendAgain(raw: string, id: string): Promise<MessageView> {
    return toMessageView(await sendAgain(this.ctx, account.canonicalUsername(raw), id));
  }

  /** Read receipts for what is now read (receipts.ts). */
  markRead(raw: string): Promise<number> {
    return markRead(this.ctx, account.canonicalUsername(raw));
  }

  // ---- message actions (P47, message-actions.ts) ----

  async sendReply(raw: string, quoteId: string, text: string): Promise<MessageView> {
    const [view] = await actions.viewsWithQuotes(this.ctx.vault, [await queueText(this.ctx, account.canonicalUsername(raw), text, quoteId)]);
    return view!;
  }

  react(raw: string, id: string, emoji: string): Promise<MessageView> {
    return actions.sendReaction(this.ctx, account.canonicalUsername(raw), id, emoji);
  }

  editMessage(raw: string, id: string, text: string): Promise<MessageView> {
    return actions.editMessage(this.ctx, account.canonicalUsername(raw), id, text);
  }

  deleteForEveryone(raw: string, id: string): Promise<MessageView> {
    return actions.deleteForEveryone(this.ctx, account.canonicalUsername(raw), id);
  }

  deleteForMe(raw: string, id: string): Promise<void> {
    return actions.deleteForMe(this.ctx, account.canonicalUsername(raw), id);
  }

  messageEditHistory(raw: string, id: string): Promise<EditVersionView[]> {
    return actions.messageEditHistory(this.ctx, account.canonicalUsername(raw), id);
  }
}

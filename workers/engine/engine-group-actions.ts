/**
 * The engine's group message actions (README "Groups": message actions; SECURITY.md P47): the
 * contract's thin facade over group-action-send.ts, stacked on the group-info facade so the vault
 * contract stays one class (vault-api.ts). Owns no state.
 */
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { EngineGroupFiles } from './engine-group-files';
import { groupMessageView } from './group-api';
import * as send from './group-action-send';
import { groupMessageEditHistory } from './group-actions';
import type { EditVersionView } from '../../src/lib/vault/views';
import { txGetGroupMessage } from '../storage/group-repo';
import { commit } from '../storage/vault';

export abstract class EngineGroupActions extends EngineGroupFiles {
  async sendGroupReply(id: string, quoteId: string, text: string, mentions: string[] = []): Promise<GroupMessageView> {
    const row = await send.sendGroupReply(this.ctx, id, quoteId, text, mentions);
    const quoted = await commit(this.ctx.vault, (tx) => txGetGroupMessage(tx, row.quote!));
    return groupMessageView(row, this.ctx.me!.username, new Map(quoted ? [[quoted.key, quoted]] : []));
  }

  reactInGroup(id: string, messageId: string, emoji: string): Promise<void> {
    return send.reactInGroup(this.ctx, id, messageId, emoji);
  }

  editGroupMessage(id: string, messageId: string, text: string, mentions: string[] = []): Promise<void> {
    return send.editGroupMessage(this.ctx, id, messageId, text, mentions);
  }

  deleteGroupMessageForEveryone(id: string, messageId: string): Promise<void> {
    return send.deleteGroupMessageForEveryone(this.ctx, id, messageId);
  }

  deleteGroupMessageForMe(id: string, messageId: string): Promise<void> {
    return send.deleteGroupMessageForMe(this.ctx, id, messageId);
  }

  groupMessageEditHistory(id: string, messageId: string): Promise<EditVersionView[]> {
    return groupMessageEditHistory(this.ctx, id, messageId);
  }
}

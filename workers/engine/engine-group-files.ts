/**
 * The engine's group file methods (README "Groups": files in groups; SECURITY.md P45, P21): the
 * contract's thin facade over group-attachments.ts, stacked on the group-info facade so the vault
 * contract stays one class (vault-api.ts). Owns no state.
 */
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import type { OpenedFile, OutgoingFile } from '../../src/lib/vault/views';
import { EngineGroupInfo } from './engine-group-info';
import { groupMessageView } from './group-api';
import { groupAttachmentHeld, openGroupAttachment, sendGroupAttachment } from './group-attachments';

export abstract class EngineGroupFiles extends EngineGroupInfo {
  async sendGroupAttachment(id: string, file: OutgoingFile): Promise<GroupMessageView> {
    return groupMessageView(await sendGroupAttachment(this.ctx, id, file), this.ctx.me!.username);
  }

  openGroupAttachment(id: string, messageId: string, transfer: string): Promise<OpenedFile> {
    return openGroupAttachment(this.ctx, id, messageId, transfer);
  }

  groupAttachmentHeld(id: string, messageId: string): Promise<number> {
    return groupAttachmentHeld(this.ctx, id, messageId);
  }
}

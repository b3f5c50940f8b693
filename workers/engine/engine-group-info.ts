/**
 * The engine's group-info method (README "Groups": group info; SECURITY.md P19): the contract's
 * thin facade over group-info-edit.ts, stacked on the invite facade so the vault contract stays
 * one class (vault-api.ts). Owns no state.
 */
import type { GroupInfoEdit } from '../../src/lib/vault/group-views';
import { EngineGroupInvites } from './engine-group-invites';
import { editGroupInfo } from './group-info-edit';

export abstract class EngineGroupInfo extends EngineGroupInvites {
  editGroupInfo(id: string, edit: GroupInfoEdit): Promise<void> {
    return editGroupInfo(this.ctx, id, edit);
  }
}

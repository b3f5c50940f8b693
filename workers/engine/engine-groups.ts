/**
 * The engine's group methods (SECURITY.md P19–P21; README "Groups"): the contract's thin facade
 * over group-ops.ts, group-api.ts and group-messages.ts. Engine (engine.ts) inherits them, so the
 * vault contract stays one class the worker delegates to (vault-api.ts). Owns no state; knows
 * nothing of connections, tabs or the driver lock.
 */
import type { ChatFlags } from '../../src/lib/vault/views';
import type { GroupInfoView, GroupMessageView, GroupSummaryView } from '../../src/lib/vault/group-views';
import { EngineProfiles } from './engine-profiles';
import * as groupApi from './group-api';
import { sendGroupText } from './group-messages';
import { markGroupRead } from './group-receipts';
import { setGroupFlags } from './group-flags';
import * as groups from './group-ops';
import { deleteLeftGroup } from './group-requests';

export abstract class EngineGroups extends EngineProfiles {
  createGroup(name: string, description: string, members: string[]): Promise<string> {
    return groups.createGroup(this.ctx, name, description, members);
  }

  listGroups(): Promise<GroupSummaryView[]> {
    return groupApi.listGroups(this.ctx);
  }

  groupInfo(id: string): Promise<GroupInfoView> {
    return groupApi.groupInfo(this.ctx, id);
  }

  addGroupMembers(id: string, members: string[]): Promise<void> {
    return groups.addMembers(this.ctx, id, members);
  }

  removeGroupMember(id: string, raw: string): Promise<void> {
    return groups.removeMember(this.ctx, id, raw);
  }

  setGroupRole(id: string, raw: string, role: 'admin' | 'member'): Promise<void> {
    return groups.setRole(this.ctx, id, raw, role);
  }

  leaveGroup(id: string): Promise<void> {
    return groups.leaveGroup(this.ctx, id);
  }

  deleteGroup(id: string): Promise<void> {
    return deleteLeftGroup(this.ctx, id);
  }

  answerUndoneGroupChanges(id: string, answer: 'retry' | 'dismiss'): Promise<void> {
    return groups.answerUndone(this.ctx, id, answer);
  }

  async sendGroupText(id: string, text: string, mentions: string[] = []): Promise<GroupMessageView> {
    return groupApi.groupMessageView(await sendGroupText(this.ctx, id, text, mentions), this.ctx.me!.username);
  }

  listGroupMessages(id: string): Promise<GroupMessageView[]> {
    return groupApi.listGroupMessages(this.ctx, id);
  }

  markGroupRead(id: string): Promise<void> {
    return markGroupRead(this.ctx, id);
  }

  setGroupFlags(id: string, flags: Partial<ChatFlags>): Promise<void> {
    return setGroupFlags(this.ctx, id, flags);
  }
}

/**
 * The engine's invite-link methods (README "Groups": invite links; SECURITY.md P19): the
 * contract's thin facade over group-invite.ts, stacked on the group facade so the vault contract
 * stays one class (vault-api.ts). Owns no state; never logs or returns the secret except as the
 * link itself to an admin of the group.
 */
import type { Username } from '../../src/lib/codec/username';
import type { InvitePreviewView } from '../../src/lib/vault/group-views';
import { EngineGroups } from './engine-groups';
import * as invites from './group-invite';

export abstract class EngineGroupInvites extends EngineGroups {
  createGroupInviteLink(id: string, approval: boolean): Promise<string> {
    return invites.createInviteLink(this.ctx, id, approval);
  }

  groupInviteLink(id: string): Promise<string | null> {
    return invites.inviteLink(this.ctx, id);
  }

  setGroupInviteApproval(id: string, approval: boolean): Promise<void> {
    return invites.setInviteApproval(this.ctx, id, approval);
  }

  turnOffGroupInviteLink(id: string): Promise<void> {
    return invites.turnOffInviteLink(this.ctx, id);
  }

  previewGroupInvite(link: string): Promise<InvitePreviewView> {
    return invites.previewInvite(this.ctx, link);
  }

  joinGroupByInvite(link: string): Promise<'joined' | 'pending' | 'member'> {
    return invites.joinByInvite(this.ctx, link);
  }

  answerGroupJoin(id: string, username: Username, approve: boolean): Promise<void> {
    return invites.answerJoinRequest(this.ctx, id, username, approve);
  }

  setGroupAccess(id: string, setting: 'editInfo' | 'addMembers', access: 'admins' | 'members'): Promise<void> {
    return invites.setGroupAccess(this.ctx, id, setting, access);
  }
}

/**
 * The vault's group methods as plain views (src/lib/vault/group-views.ts): the chat-list summary,
 * the info screen (members, roles, each member's safety number from the identity in the signed
 * state, README "Groups"), and the conversation. Never returns key bytes.
 */
import { address } from '../../src/lib/crypto/group/address';
import { findMember, isAdmin, mayEditInfo } from '../../src/lib/crypto/group/group-state';
import { identityPublic } from '../../src/lib/crypto/identity';
import { safetyNumber } from '../../src/lib/crypto/safety-number';
import type { GroupInfoView, GroupMessageView, GroupSummaryView } from '../../src/lib/vault/group-views';
import { listGroupMessages as listRows, listGroups as listRecords, type GroupMessageRecord, type GroupRecord } from '../storage/group-repo';
import { asUsername } from '../../src/lib/codec/username';
import { listContactNames } from '../storage/contact-repo';
import { requireMe, type EngineContext } from './context';
import { requireGroup } from './group-ops';
import { joinRequests } from './group-invite';
import { receiptView } from './group-receipts';
import { actionViewFields } from './group-action-views';
import { attachmentView } from './views';
import { chatFlagsOf } from './chat-flags';
import { describeActions, undoneToRetry } from './group-undone';

/** What of our undone changes "Try again" would still do, in words (absent when nothing). */
function undoneView(g: GroupRecord): { undone?: string } {
  const left = undoneToRetry(g);
  return left.length ? { undone: describeActions(left) } : {};
}

export async function listGroups(ctx: EngineContext): Promise<GroupSummaryView[]> {
  const me = requireMe(ctx);
  return (await listRecords(ctx.vault)).map((g) => ({
    id: g.id,
    name: g.history.head.name,
    ...(g.lastPreview ? { lastPreview: g.lastPreview } : {}),
    ...(g.lastAt > 0 ? { lastAt: g.lastAt } : {}),
    unread: g.unread,
    missing: g.missing,
    memberCount: g.history.head.members.length,
    isMember: !!findMember(g.history.head, address(me.username)),
    ...(g.history.head.avatar ? { avatar: g.history.head.avatar.slice() } : {}),
    mentions: g.mentionsUnread ?? 0,
    flags: chatFlagsOf(g),
    ...(g.requestFrom ? { requestFrom: g.requestFrom } : {})
  }));
}

export async function groupInfo(ctx: EngineContext, id: string): Promise<GroupInfoView> {
  const me = requireMe(ctx);
  const g = await requireGroup(ctx, id);
  const head = g.history.head;
  const ours = address(me.username);
  const ourIdentity = identityPublic(me.identity);
  const contacts = new Set(await listContactNames(ctx.vault));
  return {
    id,
    name: head.name,
    description: head.description,
    avatar: head.avatar ? head.avatar.slice() : null,
    canEditInfo: mayEditInfo(head, ours),
    version: head.version,
    amAdmin: isAdmin(head, ours),
    isMember: !!findMember(head, ours),
    members: head.members.map((m) => {
      const self = m.address.username === me.username;
      return {
        username: m.address.username,
        role: m.role,
        me: self,
        contact: contacts.has(m.address.username),
        safetyNumber: self ? '' : safetyNumber({ ourUsername: me.username, ourIdentity, theirUsername: m.address.username, theirIdentity: m.identity })
      };
    }),
    settings: { ...head.settings },
    invite: { on: head.invite !== null, approval: head.invite?.approval ?? false },
    pending: joinRequests(me, g),
    ...(g.requestFrom ? { requestFrom: g.requestFrom } : {}),
    ...undoneView(g)
  };
}

function toView(m: GroupMessageRecord, me: string, rows?: ReadonlyMap<string, GroupMessageRecord>): GroupMessageView {
  if (m.direction === 'system') return { kind: 'notice', id: m.key, notice: m.notice ?? 'gap', who: m.sender, at: m.sentAt, ...(m.body ? { text: m.body } : {}) };
  return {
    kind: 'text',
    id: m.key,
    sender: asUsername(m.direction === 'out' ? me : m.sender),
    direction: m.direction,
    text: m.body,
    at: m.sentAt,
    ...(m.direction === 'out' ? { status: m.status === 'received' ? 'sent' : m.status } : {}),
    ...(m.direction === 'out' && m.recipients ? { receipts: receiptView(m) } : {}),
    ...(m.mentions?.length && !m.deleted ? { mentions: m.mentions } : {}),
    ...(m.attachment && !m.deleted ? { attachment: attachmentView(m.attachment) } : {}),
    ...(m.keyChanged ? { keyChanged: true as const } : {}),
    ...actionViewFields(m, me, rows)
  };
}

export async function listGroupMessages(ctx: EngineContext, id: string): Promise<GroupMessageView[]> {
  const me = requireMe(ctx);
  await requireGroup(ctx, id);
  const rows = await listRows(ctx.vault, id);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  return rows.map((m) => toView(m, me.username, byKey));
}

export { toView as groupMessageView };

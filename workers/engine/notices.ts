/**
 * System notices inside a conversation ("safety number changed", "you rejected the new key"):
 * plain records the UI renders from a code, never from key bytes. Gap markers are notices too
 * (gaps.ts).
 */
import { toHex } from '../../src/lib/codec/bytes';
import type { MessageRecord } from '../storage/schema';
import type { EngineContext } from './context';
import type { Username } from '../../src/lib/codec/username';

export const NoticeKind = {
  identityChanged: 'identity-changed',
  identityAccepted: 'identity-accepted',
  identityRejected: 'identity-rejected',
  verified: 'verified',
  /** A PIN restore brought the chat back without its messages (DESIGN.md §7). */
  restored: 'restored'
} as const;
export type NoticeKind = (typeof NoticeKind)[keyof typeof NoticeKind];

export function notice(ctx: EngineContext, username: Username, kind: NoticeKind): MessageRecord {
  const now = ctx.deps.now();
  const id = toHex(ctx.deps.rng(16));
  return { key: `system:${id}`, id, username, direction: 'system', body: kind, sentAt: now, receivedAt: now, status: 'received' };
}

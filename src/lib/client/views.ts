/**
 * Maps what the engine returns (workers/engine: ChatSummary, MessageView, ContactInfo, events) to
 * the view types the screens render (types.ts). The screens never see storage record shapes, so
 * the engine may change them without touching a component.
 */
import type { ChatSummary, ContactInfo, EngineEvent, MessageView as EngineMessage, UsernameCheck } from '../../../workers/engine/vault-api';
import type { Availability, ChatView, ContactView, MessageStatus, MessageView, VaultEvent } from './types';

export function toChatView(c: ChatSummary): ChatView {
  return {
    username: c.name,
    lastPreview: c.lastPreview || undefined,
    lastAt: c.lastAt > 0 ? c.lastAt : undefined,
    unread: c.unread,
    blocked: c.blocked,
    identityChanged: c.identityChanged
  };
}

/** Engine statuses -> ticks. `blocked` is an outgoing message held back (blocked contact or unaccepted key change). */
function toStatus(s: EngineMessage['status']): MessageStatus | undefined {
  switch (s) {
    case 'queued':
      return 'queued';
    case 'sent':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'read':
      return 'read';
    case 'blocked':
      return 'held';
    default:
      return undefined;
  }
}

export function toMessageView(m: EngineMessage): MessageView {
  if (m.direction === 'system') return { kind: 'notice', notice: m.body, id: m.key, chat: m.chatId, at: m.sentAt };
  const status = m.direction === 'out' ? toStatus(m.status) : undefined;
  return {
    kind: 'text',
    id: m.key,
    chat: m.chatId,
    direction: m.direction,
    text: m.body,
    at: m.sentAt,
    ...(status ? { status } : {})
  };
}

export function toContactView(c: ContactInfo): ContactView {
  return {
    username: c.username,
    safetyNumber: c.safetyNumber,
    qrPayload: c.qrPayload,
    verified: c.verified,
    identityChanged: c.identityChanged,
    sendBlocked: c.sendBlocked,
    blocked: c.blocked
  };
}

export function toAvailability(r: UsernameCheck): Availability {
  if (!r.valid) return { kind: 'invalid', reason: 'Use 3–32 letters, digits, _ or .' };
  return r.available ? { kind: 'available' } : { kind: 'taken' };
}

/** Engine events the screens care about; tab-role changes are internal and dropped. */
export function toVaultEvent(e: EngineEvent): VaultEvent | undefined {
  switch (e.type) {
    case 'message':
      return { type: 'message', chat: e.chatId, id: e.key };
    case 'status': {
      const status = toStatus(e.status);
      return status ? { type: 'status', chat: e.chatId, id: e.key, status } : undefined;
    }
    case 'chats':
      return { type: 'chats' };
    case 'identity':
      return { type: 'identity', username: e.username };
    case 'connection':
      return { type: 'connection', state: e.state };
    case 'receive-error':
      return { type: 'receive-error', sender: e.sender, code: e.code };
    case 'call':
      return { type: 'call', chat: e.chatId, signal: e.signal };
    case 'signed-out':
      return { type: 'signed-out' };
    default:
      return undefined;
  }
}

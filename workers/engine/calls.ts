/**
 * Call signalling through the ratchet, and the call log (DESIGN.md §6, issue 4).
 *
 * `queueCallSignal` sends opaque call-signal bytes (src/lib/wire/call.ts, built on the main thread
 * by the call controller) as content kind 'call' through the ordinary outbox, so they are
 * encrypted and delivered like any message — the host sees one more envelope, never a call.
 * Incoming 'call' contents are not stored: inbox.ts emits a `call` event and the controller
 * decides (it refuses stale and replayed offers). `recordCall` writes the conversation entry
 * ("outgoing video call, 2:13", "missed voice call"), keyed by call id so a second write replaces
 * the first. Knows nothing of PeerJS or WebRTC.
 */
import { fail } from '../../src/lib/crypto/errors';
import { encodeContent } from '../../src/lib/wire/content';
import { isCallHexId } from '../../src/lib/wire/call';
import { getContact } from '../storage/contact-repo';
import { updateChat } from '../storage/chat-repo';
import { addOutbox } from '../storage/outbox-repo';
import { putMessage } from '../storage/message-repo';
import type { MessageRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { assertCanSend } from './trust';

export const CallOutcome = ['completed', 'missed', 'declined', 'busy', 'cancelled', 'failed', 'unverified'] as const;
export type CallOutcome = (typeof CallOutcome)[number];

export interface CallLogEntry {
  callId: string;
  direction: 'in' | 'out';
  media: 'audio' | 'video';
  outcome: CallOutcome;
  /** Connected time, 0 if the call never connected. */
  durationMs: number;
  /** When the call started ringing (ms). */
  at: number;
}

/** The notice code the UI renders: `call:<in|out>:<audio|video>:<outcome>:<seconds>`. */
export function callNoticeCode(e: CallLogEntry): string {
  return `call:${e.direction}:${e.media}:${e.outcome}:${Math.max(0, Math.round(e.durationMs / 1000))}`;
}

export async function queueCallSignal(ctx: EngineContext, chatId: string, signal: Uint8Array): Promise<void> {
  requireMe(ctx);
  assertCanSend(await getContact(ctx.vault, chatId));
  const content = encodeContent({ kind: 'call', signal });
  await commit(ctx.vault, async (tx) => {
    await addOutbox(tx, { to: chatId, content });
  });
  ctx.kickOutbox();
}

export async function recordCall(ctx: EngineContext, chatId: string, e: CallLogEntry): Promise<void> {
  requireMe(ctx);
  if (!isCallHexId(e.callId)) fail('InvalidArgument', 'call id is not 32 hex digits');
  if (!CallOutcome.includes(e.outcome) || (e.direction !== 'in' && e.direction !== 'out') || (e.media !== 'audio' && e.media !== 'video')) {
    fail('InvalidArgument', 'malformed call log entry');
  }
  const now = ctx.deps.now();
  const at = Number.isSafeInteger(e.at) && e.at > 0 ? Math.min(e.at, now) : now;
  const m: MessageRecord = {
    key: `call:${e.callId}`,
    id: e.callId,
    chatId,
    direction: 'system',
    body: callNoticeCode(e),
    sentAt: at,
    receivedAt: now,
    status: 'received'
  };
  await commit(ctx.vault, async (tx) => {
    await putMessage(tx, m);
    await updateChat(tx, chatId, (c) => ({ ...c, lastAt: Math.max(c.lastAt, at) }));
  });
  ctx.events.emit({ type: 'message', chatId, key: m.key });
  ctx.events.emit({ type: 'chats' });
}

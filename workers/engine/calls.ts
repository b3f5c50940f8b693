/**
 * Call signalling through the ratchet, and the call log (DESIGN.md §6).
 *
 * `queueCallSignal` sends opaque call-signal bytes (src/lib/wire/call.ts, built on the main thread
 * by the call controller) as content kind 'call' through the ordinary outbox, so they are
 * encrypted and delivered like any message — the host sees one more envelope, never a call.
 * Incoming 'call' contents are not stored: inbox.ts emits a `call` event and the controller
 * decides (it refuses stale and replayed offers). `recordCall` writes the conversation entry
 * ("outgoing video call, 2:13", "missed voice call"), keyed by call id so a second write replaces
 * the first. Knows nothing of PeerJS or WebRTC.
 */
import { fail } from '../../src/lib/codec/errors';
import { encodeContent } from '../../src/lib/wire/content';
import { decodeCallSignal, isCallHexId } from '../../src/lib/wire/call';
import { getContact } from '../storage/contact-repo';
import { updateChat } from '../storage/chat-repo';
import { addOutbox, hasOutboxFor } from '../storage/outbox-repo';
import { encryptAndSendNow } from './send-now';
import { sendingSessions } from './sessions';
import { putMessage } from '../storage/message-repo';
import type { MessageRecord } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { asUsername } from '../../src/lib/codec/username';
import { assertCanSend } from './trust';
import type { Username } from '../../src/lib/codec/username';
import { CallOutcome, type CallEnding, type CallLogEntry } from '../../src/lib/vault/views';


/** The notice code the UI renders: `call:<in|out>:<audio|video>:<outcome>:<seconds>`. */
export function callNoticeCode(e: CallLogEntry): string {
  return `call:${e.direction}:${e.media}:${e.outcome}:${Math.max(0, Math.round(e.durationMs / 1000))}`;
}

/** The chat list's one-line preview of a call entry. */
export function callPreview(e: CallLogEntry): string {
  const what = e.media === 'video' ? 'video call' : 'voice call';
  if (e.direction === 'in' && (e.outcome === 'missed' || e.outcome === 'busy')) return `Missed ${what}`;
  if (e.outcome === 'unverified') return `${what[0]!.toUpperCase()}${what.slice(1)} could not be verified`;
  return `${e.direction === 'out' ? 'Outgoing' : 'Incoming'} ${what}`;
}

export async function queueCallSignal(ctx: EngineContext, username: Username, signal: Uint8Array): Promise<void> {
  requireMe(ctx);
  const content = encodeContent({ kind: 'call', signal });
  // Call set-up is latency-bound (bench:call): when this tab drives and nothing is queued
  // for the peer, encrypt and send right away instead of waiting for an outbox pass
  // (sendingSessions refuses a blocked or untrusted contact, as below).
  if (ctx.driver && ctx.connection === 'online') {
    const sent = await ctx.serial(() => sendNow(ctx, username, content));
    if (sent) return;
  }
  assertCanSend(await getContact(ctx.vault, username));
  await commit(ctx.vault, async (tx) => {
    await addOutbox(tx, { username, content });
  });
  ctx.kickOutbox();
}

/**
 * The outbox's encrypt-then-send without the queue step (send-now.ts). False if earlier items for
 * the peer are still queued (order is kept: the caller queues behind them).
 */
async function sendNow(ctx: EngineContext, username: Username, content: Uint8Array): Promise<boolean> {
  requireMe(ctx);
  const [queued, sessions] = await Promise.all([hasOutboxFor(ctx.vault, username), sendingSessions(ctx, username)]);
  if (queued) return false;
  // Stored (the host refused or is away): the outbox retries or holds it, as for any item.
  await encryptAndSendNow(ctx, username, sessions, content);
  return true;
}

function checkEntry(e: CallLogEntry): void {
  if (!isCallHexId(e.callId)) fail('InvalidArgument', 'call id is not 32 hex digits');
  if (!CallOutcome.includes(e.outcome) || (e.direction !== 'in' && e.direction !== 'out') || (e.media !== 'audio' && e.media !== 'video')) {
    fail('InvalidArgument', 'malformed call log entry');
  }
}

export async function recordCall(ctx: EngineContext, username: Username, e: CallLogEntry): Promise<void> {
  requireMe(ctx);
  checkEntry(e);
  const now = ctx.deps.now();
  const at = Number.isSafeInteger(e.at) && e.at > 0 ? Math.min(e.at, now) : now;
  const m: MessageRecord = {
    key: `call:${e.callId}`,
    id: e.callId,
    username,
    direction: 'system',
    body: callNoticeCode(e),
    sentAt: at,
    receivedAt: now,
    status: 'received'
  };
  await commit(ctx.vault, async (tx) => {
    await putMessage(tx, m);
    await updateChat(tx, username, (c) => (at >= c.lastAt ? { ...c, lastAt: at, lastPreview: callPreview(e) } : c));
  });
  ctx.events.emit({ type: 'message', username: asUsername(username), id: m.key });
  ctx.events.emit({ type: 'chats' });
}

/** A call's ending as armed by the page, checked: see `armedEnding`. */
export interface ArmedEnding {
  username: Username;
  ending: CallEnding;
}

/**
 * Checks what the page arms for a lock (README "Calls and the lock"): the entry as `recordCall`
 * takes it, and a signal that can only end this very call (a hang-up or cancel with its id), so a
 * lock never sends an offer, an answer or a decline on anyone's behalf.
 */
export function armedEnding(username: Username, ending: CallEnding): ArmedEnding {
  checkEntry(ending.entry);
  if (ending.connectedAt !== undefined && !(Number.isSafeInteger(ending.connectedAt) && ending.connectedAt > 0)) {
    fail('InvalidArgument', 'malformed connection time');
  }
  if (ending.signal !== undefined) {
    if (!endsCall(ending.signal, ending.entry.callId)) fail('InvalidArgument', 'a lock only ends its own call');
  }
  return { username, ending: { signal: ending.signal?.slice(), entry: { ...ending.entry }, connectedAt: ending.connectedAt } };
}

/** Whether `signal` is a hang-up or cancel of call `callId` (false for bytes that are no signal). */
export function endsCall(signal: Uint8Array, callId: string): boolean {
  try {
    const s = decodeCallSignal(signal);
    return (s.type === 'hangup' || s.type === 'cancel') && s.callId === callId;
  } catch {
    return false;
  }
}

/** How long a lock waits for the host to take the hang-up before it drops the keys anyway. */
export const LOCK_SIGNAL_WAIT_MS = 1500;

/**
 * The vault is locking under a call (P46): the entry is written, then the hang-up goes through the
 * ratchet while the keys are still here. The host gets `waitMs` to take it; past that, or offline,
 * it stays in the outbox, sent after the next unlock (the other side ignores an end for a call
 * that is over). Never throws: the lock goes on whatever happens here.
 */
export async function endCallForLock(ctx: EngineContext, armed: ArmedEnding, waitMs = LOCK_SIGNAL_WAIT_MS): Promise<void> {
  const { username, ending } = armed;
  const now = ctx.deps.now();
  const entry = ending.connectedAt === undefined ? ending.entry : { ...ending.entry, durationMs: Math.max(0, now - ending.connectedAt) };
  const sent = ending.signal ? queueCallSignal(ctx, username, ending.signal).catch(() => undefined) : undefined;
  await recordCall(ctx, username, entry).catch(() => undefined);
  if (!sent) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([sent, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
  clearTimeout(timer);
}

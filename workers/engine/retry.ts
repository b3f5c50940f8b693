/**
 * Getting back messages a restored browser could not decrypt (DESIGN.md §7). After a PIN restore the
 * new browser has the identity but none of the old sessions, so whatever a contact sent to the old
 * sessions fails here. Instead of losing it:
 *
 *   receiver  failures from a known, unblocked contact are collected for a moment, then ONE
 *             `retry` content (earliest host time + the envelope ids) is queued to that contact;
 *             it travels in a session this browser started from the contact's bundle, so it is
 *             authenticated by the same identity keys as any message.
 *   sender    on a retry, re-queues its own texts to that contact sent since then (at most
 *             RETRY_MAX_MESSAGES, none older than RETRY_MAX_AGE_MS), SAME id and timestamp, in
 *             the now-current session. They come from the sealed message store (P32).
 *   receiver  shows each once: texts are keyed by sender and id (inbox.ts drops repeats).
 */
import { encodeContent, type RetryContent } from '../../src/lib/wire/content';
import { getContact } from '../storage/contact-repo';
import { listMessages } from '../storage/message-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import type { Username } from '../../src/lib/codec/username';

export const RETRY_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const RETRY_MAX_MESSAGES = 500;
/** Failures within this window go out as one request. */
export const RETRY_BATCH_MS = 300;
/** A contact is asked again only after this long (a broken peer must not make us loop). */
export const RETRY_COOLDOWN_MS = 60_000;
/** Host and sender clocks may differ: the window is widened by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;

interface Pending {
  since: number;
  serverIds: number[];
  timer?: ReturnType<typeof setTimeout>;
}

const pending = new WeakMap<EngineContext, Map<string, Pending>>();
const lastAsked = new WeakMap<EngineContext, Map<string, number>>();

/** Called by inbox.ts for an envelope that did not decrypt. */
export async function noteUndecryptable(ctx: EngineContext, sender: Username, serverId: string, receivedAt: number): Promise<void> {
  const contact = await getContact(ctx.vault, sender);
  if (!contact || contact.blocked) return;
  const asked = lastAsked.get(ctx)?.get(sender);
  if (asked !== undefined && ctx.deps.now() - asked < RETRY_COOLDOWN_MS) return;
  let bySender = pending.get(ctx);
  if (!bySender) pending.set(ctx, (bySender = new Map()));
  const p = bySender.get(sender) ?? { since: receivedAt, serverIds: [] };
  p.since = Math.min(p.since, receivedAt);
  const id = Number(serverId);
  if (Number.isSafeInteger(id) && id >= 0 && p.serverIds.length < RETRY_MAX_MESSAGES) p.serverIds.push(id);
  bySender.set(sender, p);
  if (p.timer) return;
  p.timer = setTimeout(() => {
    bySender.delete(sender);
    let asks = lastAsked.get(ctx);
    if (!asks) lastAsked.set(ctx, (asks = new Map()));
    asks.set(sender, ctx.deps.now());
    const content = encodeContent({ kind: 'retry', since: p.since, serverIds: p.serverIds });
    void ctx
      .serial(async () => {
        await commit(ctx.vault, async (tx) => {
          await addOutbox(tx, { username: sender, content });
        });
      })
      .then(() => ctx.kickOutbox())
      .catch(() => undefined);
  }, RETRY_BATCH_MS);
}

/**
 * The texts to send again for a retry from `from` (read before the receive transaction opens);
 * `queueResends` adds them inside it.
 */
export async function textsToResend(ctx: EngineContext, from: Username, r: RetryContent): Promise<Uint8Array[]> {
  const now = ctx.deps.now();
  // Our clock and the host's may differ: widen the window by the skew we tolerate elsewhere.
  const since = Math.max(r.since - CLOCK_SKEW_MS, now - RETRY_MAX_AGE_MS);
  const mine = (await listMessages(ctx.vault, from)).filter((m) => m.direction === 'out' && m.sentAt >= since);
  return mine.slice(-RETRY_MAX_MESSAGES).map((m) => encodeContent({ kind: 'text', id: m.id, sentAt: m.sentAt, text: m.body }));
}

export async function queueResends(tx: Tx, username: Username, contents: readonly Uint8Array[]): Promise<void> {
  for (const content of contents) await addOutbox(tx, { username, content });
}

/**
 * Getting back messages that could not be decrypted (DESIGN.md §7; SECURITY.md P36). After a PIN
 * restore the new browser has the identity but none of the old sessions, so what a contact sent
 * to the old sessions fails here; a tampered envelope fails the same way.
 *
 *   receiver  an envelope from a known, unblocked contact that did not decrypt is named by its
 *             ratchet header (refs.ts: the sender's ratchet key and n, readable without the
 *             session). Names collected for a moment go out as ONE `retry` content; after that
 *             the contact is not asked again for RETRY_COOLDOWN_MS of OUR clock, whatever the
 *             host delivers — one bad envelope, or a thousand, is one request.
 *   sender    a request is honoured only when it arrives in a session with the very identity the
 *             named messages were encrypted to, and only while that identity is the contact's
 *             trusted one (no pending or rejected change). It resends the texts whose recorded
 *             encryptions (outbox.ts `sentVia`) it names — nothing else — written less than
 *             RETRY_MAX_AGE_MS ago by our clock, at most RETRY_BUDGET per contact per
 *             RETRY_BUDGET_MS; never a message deleted for everyone, nor a file message (a
 *             text cannot carry its file). Each goes out as `resent` (same id and time, the ref it answers),
 *             pinned to that identity: any other session drops it (outbox.ts).
 *   receiver  shows each once (texts are keyed by sender and id) and clears the ref's marker (gaps.ts).
 *
 * The host's ids and times play no part: it can neither widen a request nor aim one at a new key.
 */
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { encodeContent, MAX_RETRY_REFS, type MessageRef, type RetryContent } from '../../src/lib/wire/content';
import { getContact } from '../storage/contact-repo';
import { listMessages } from '../storage/message-repo';
import { addOutbox } from '../storage/outbox-repo';
import type { OutboxRecord, Tx } from '../storage/schema';
import { commit } from '../storage/vault';
import type { EngineContext } from './context';
import { refKey } from './refs';
import { isRejected } from './trust';

/** Only messages we wrote less than this long ago (our clock) are sent again. */
export const RETRY_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Most messages resent to one contact per RETRY_BUDGET_MS. */
export const RETRY_BUDGET = 50;
export const RETRY_BUDGET_MS = 60 * 60 * 1000;
/** Failures within this window go out as one request. */
export const RETRY_BATCH_MS = 300;
/** A contact is asked again only after this long (our clock): a broken or hostile peer or host cannot make us loop. */
export const RETRY_COOLDOWN_MS = 10 * 60_000;

interface Pending {
  refs: Map<string, MessageRef>;
  timer: ReturnType<typeof setTimeout>;
}

interface RetryState {
  pending: Map<string, Pending>;
  /** When each contact was last asked (our clock). */
  asked: Map<string, number>;
  /** Resends per contact in the current budget window. */
  spent: Map<string, { since: number; count: number }>;
}

const states = new WeakMap<EngineContext, RetryState>();

function stateOf(ctx: EngineContext): RetryState {
  let s = states.get(ctx);
  if (!s) states.set(ctx, (s = { pending: new Map(), asked: new Map(), spent: new Map() }));
  return s;
}

/**
 * Called by inbox.ts for an undecryptable envelope from a known, unblocked contact whose header
 * names the message. At most one request per contact per cooldown, naming at most MAX_RETRY_REFS.
 */
export function noteUndecryptable(ctx: EngineContext, sender: Username, ref: MessageRef): void {
  const s = stateOf(ctx);
  const asked = s.asked.get(sender);
  if (asked !== undefined && ctx.deps.now() - asked < RETRY_COOLDOWN_MS) return;
  const p = s.pending.get(sender);
  if (p) {
    if (p.refs.size < MAX_RETRY_REFS) p.refs.set(refKey(ref), ref);
    return;
  }
  const refs = new Map([[refKey(ref), ref]]);
  const timer = setTimeout(() => {
    s.pending.delete(sender);
    s.asked.set(sender, ctx.deps.now());
    const content = encodeContent({ kind: 'retry', missing: [...refs.values()] });
    void ctx
      .serial(() => commit(ctx.vault, (tx) => addOutbox(tx, { username: sender, content })))
      .then(() => ctx.kickOutbox())
      .catch(() => undefined);
  }, RETRY_BATCH_MS);
  s.pending.set(sender, { refs, timer });
}

/**
 * The resends a retry from `from` earns, the request having arrived in a session with identity
 * `requester` (read before the receive transaction opens; `queueResends` adds them inside it).
 */
export async function resendsFor(ctx: EngineContext, from: Username, requester: Uint8Array, r: RetryContent): Promise<OutboxRecord[]> {
  const contact = await getContact(ctx.vault, from);
  // The requester must be the contact's trusted identity, with no change pending or rejected.
  if (!contact || contact.blocked || contact.pendingIdentity || !bytesEqual(contact.identity, requester) || isRejected(contact, requester)) return [];
  const named = new Map(r.missing.slice(0, MAX_RETRY_REFS).map((ref) => [refKey(ref), ref]));
  const now = ctx.deps.now();
  const s = stateOf(ctx);
  let spent = s.spent.get(from);
  if (!spent || now - spent.since >= RETRY_BUDGET_MS) s.spent.set(from, (spent = { since: now, count: 0 }));
  const out: OutboxRecord[] = [];
  for (const m of await listMessages(ctx.vault, from)) {
    if (spent.count >= RETRY_BUDGET) break;
    if (m.direction !== 'out' || !m.identity || !bytesEqual(m.identity, requester)) continue;
    if (m.status !== 'sent' && m.status !== 'delivered' && m.status !== 'read') continue;
    // P47: a message deleted for everyone stays deleted (it would come back as an empty text); a
    // file message cannot travel as a text (its caption would stand in for the file).
    if (m.extras?.deleted || m.attachment) continue;
    if (now - m.receivedAt > RETRY_MAX_AGE_MS || m.receivedAt > now) continue;
    const hit = (m.sentVia ?? []).find((k) => named.has(k));
    const ref = hit === undefined ? undefined : named.get(hit);
    if (!hit || !ref) continue;
    named.delete(hit);
    spent.count++;
    const content = encodeContent({ kind: 'resent', ref, id: m.id, sentAt: m.sentAt, text: m.body });
    out.push({ username: from, content, identity: requester, resendOf: m.key });
  }
  return out;
}

export async function queueResends(tx: Tx, items: readonly OutboxRecord[]): Promise<void> {
  for (const item of items) await addOutbox(tx, item);
}

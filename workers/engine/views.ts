/**
 * Records -> the contract's views (src/lib/vault/views.ts): the one place storage shapes become
 * what the screens render. Outgoing statuses become ticks (`blocked` = held back, `stale` = not
 * sent because the key changed); incoming ones have none. Knows nothing of IndexedDB or the protocol.
 */
import type { Username } from '../../src/lib/codec/username';
import type { AttachmentView, MessageStatus as StatusView, MessageView, QuoteView, ReactionView, VaultEvent } from '../../src/lib/vault/views';
import type { AttachmentContent } from '../../src/lib/wire/attachment-content';
import type { MessageRecord, MessageStatus } from '../storage/schema';

export function statusView(s: MessageStatus): StatusView | undefined {
  switch (s) {
    case 'queued':
    case 'sent':
    case 'delivered':
    case 'read':
    case 'failed':
      return s;
    case 'blocked':
      return 'held';
    case 'stale':
      return 'key-changed';
    default:
      return undefined;
  }
}

// Records hold usernames the engine canonicalised before writing them.
const person = (m: MessageRecord): Username => m.username as Username;

/** A reply's quote as shown: the quoted message's text now, or none when it is gone (P44). */
function quoteView(key: string, quoted: MessageRecord | undefined, expires?: true): QuoteView {
  if (!quoted || quoted.direction === 'system' || quoted.extras?.deleted) return { id: key, direction: key.includes(':') ? 'in' : 'out', ...(!quoted && expires ? { expired: true as const } : {}) };
  return { id: quoted.key, direction: quoted.direction, text: quoted.body };
}

/** Reactions grouped by emoji, in the order first chosen; ours is stored under ''. */
function reactionViews(reactions: Record<string, string>): ReactionView[] {
  const out: ReactionView[] = [];
  for (const [who, emoji] of Object.entries(reactions)) {
    const r = out.find((x) => x.emoji === emoji);
    if (r) {
      r.count++;
      r.mine ||= who === '';
    } else out.push({ emoji, count: 1, mine: who === '' });
  }
  return out;
}

/** `quoted`: the record `m.extras.quote` names, if it is still here (message-actions.ts reads it). */
export function toMessageView(m: MessageRecord, quoted?: MessageRecord): MessageView {
  if (m.direction === 'system') return { kind: 'notice', notice: m.body, id: m.key, username: person(m), at: m.sentAt, sortAt: m.sentAt };
  const status = m.direction === 'out' ? statusView(m.status) : undefined;
  const x = m.extras;
  return {
    kind: 'text',
    id: m.key,
    username: person(m),
    direction: m.direction,
    text: m.body,
    // The sender's own time is shown even where the sort position had to move (P36).
    at: m.claimedAt ?? m.sentAt,
    ...(status ? { status } : {}),
    ...(m.keyChanged ? { keyChanged: true as const } : {}),
    ...(m.attachment ? { attachment: attachmentView(m.attachment) } : {}),
    sortAt: m.sentAt,
    ...(x?.quote ? { quote: quoteView(x.quote, quoted, x.quoteExpires) } : {}),
    ...(x?.reactions && Object.keys(x.reactions).length > 0 ? { reactions: reactionViews(x.reactions) } : {}),
    ...(x?.editedAt !== undefined && !x.deleted ? { edited: true as const } : {}),
    ...(x?.deleted ? { deleted: true as const } : {})
  };
}

/** The event for a message stored or moved, carrying its view so a screen patches one row. */
export function messageEvent(m: MessageRecord, quoted?: MessageRecord): VaultEvent {
  return { type: 'message', username: person(m), id: m.key, message: toMessageView(m, quoted) };
}

/** The status event for a message whose status moved, if it shows as a tick. */
export function statusEvent(m: MessageRecord): VaultEvent | undefined {
  const status = statusView(m.status);
  return status ? { type: 'status', username: person(m), id: m.key, status } : undefined;
}

/** A file as a conversation shows it: never its key, digest or blob id. */
export function attachmentView(a: AttachmentContent): AttachmentView {
  return { name: a.name, mime: a.mime, size: a.size, ...(a.thumbnail ? { thumbnail: a.thumbnail } : {}) };
}

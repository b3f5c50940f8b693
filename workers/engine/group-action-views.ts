/**
 * What a group message shows of its actions (README "Groups": message actions; P47): the quote
 * (author and current text, looked up when shown, so a deleted original leaves no copy in its
 * replies), reactions grouped by emoji with who chose each, "edited" and "deleted". Plain data
 * (src/lib/vault/group-views.ts), never key bytes. Pure.
 */
import { asUsername, type Username } from '../../src/lib/codec/username';
import type { GroupQuoteView, GroupReactionView } from '../../src/lib/vault/group-views';
import type { GroupMessageRecord } from '../storage/group-repo';

export interface ActionViewFields {
  quote?: GroupQuoteView;
  reactions?: GroupReactionView[];
  edited?: true;
  deleted?: true;
}

/** Who wrote the message whose local key is `key` in group `groupId` (`${g}:${id}` is ours). */
function authorOfKey(groupId: string, key: string, me: string): string {
  const rest = key.slice(groupId.length + 1).split(':');
  return rest.length === 2 ? rest[0]! : me;
}

/** The action fields of `m`'s view; `rows` resolves a quote by key (absent: shown as not found). */
export function actionViewFields(m: GroupMessageRecord, me: string, rows?: ReadonlyMap<string, GroupMessageRecord>): ActionViewFields {
  if (m.deleted) return { deleted: true };
  const out: ActionViewFields = {};
  if (m.quote) {
    const q = rows?.get(m.quote);
    const alive = q && !q.deleted && q.direction !== 'system';
    out.quote = { id: m.quote, sender: asUsername(authorOfKey(m.groupId, m.quote, me)), ...(alive ? { text: q.body } : {}) };
  }
  if (m.reactions && Object.keys(m.reactions).length > 0) {
    const byEmoji = new Map<string, Username[]>();
    for (const [who, emoji] of Object.entries(m.reactions)) byEmoji.set(emoji, [...(byEmoji.get(emoji) ?? []), asUsername(who)]);
    out.reactions = [...byEmoji].map(([emoji, who]) => ({ emoji, count: who.length, who, mine: who.includes(me as Username) }));
  }
  if (m.editedAt !== undefined) out.edited = true;
  return out;
}

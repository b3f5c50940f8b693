/**
 * Replies shown with what they quote (README "Message actions"): when a loaded message changes
 * (edited, deleted for everyone) or goes (deleted for me), the loaded replies quoting it follow,
 * without re-reading the conversation. A reply not loaded gets the current text when its page is
 * read (the vault resolves quotes then). Pure.
 */
import type { MessageView } from '../vault/views';

/** `list` with the quotes of `id` showing `text` (undefined: the quoted message is gone, P44). */
export function refreshQuotes(list: readonly MessageView[], id: string, text: string | undefined): MessageView[] {
  let changed = false;
  const next = list.map((m) => {
    if (m.kind !== 'text' || m.quote?.id !== id || m.quote.text === text) return m;
    changed = true;
    const { text: _old, ...rest } = m.quote;
    return { ...m, quote: text === undefined ? rest : { ...rest, text } };
  });
  return changed ? next : (list as MessageView[]);
}

/** What a reply to `m` shows of it now. */
export function quotedText(m: MessageView): string | undefined {
  return m.kind === 'text' && !m.deleted ? m.text : undefined;
}

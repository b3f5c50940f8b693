/**
 * Opening a conversation at one message (README "Search"): a Svelte action for a message log
 * whose rows carry `data-message-id`. Once the row of `id` is in the log, it is scrolled to the
 * middle, made focusable, focused and briefly highlighted (`.found`), once per id. Knows nothing
 * of what the rows show.
 */
import { tick } from 'svelte';

export interface FocusMessage {
  /** The message to open at (undefined: none). */
  id: string | undefined;
  /** Changes whenever the log's rows change (their count), so a late row is still found. */
  rows: number;
}

const HIGHLIGHT_MS = 2000;

export function focusMessage(log: HTMLElement, params: FocusMessage) {
  let done: string | undefined;
  const apply = (p: FocusMessage) => {
    const id = p.id;
    if (id === undefined || id === done) return;
    void tick().then(() => {
      const row = [...log.querySelectorAll<HTMLElement>('[data-message-id]')].find((e) => e.dataset.messageId === id);
      if (!row || done === id) return;
      done = id;
      row.tabIndex = -1;
      row.scrollIntoView({ block: 'center' });
      row.focus({ preventScroll: true });
      row.classList.add('found');
      setTimeout(() => row.classList.remove('found'), HIGHLIGHT_MS);
    });
  };
  apply(params);
  return { update: apply };
}

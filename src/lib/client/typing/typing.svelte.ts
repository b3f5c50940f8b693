/**
 * The page's view of who is typing (typing-board.ts), one per session, reactive for the chat list
 * row and the conversation header; and a TypingSender per open conversation that hands the user's
 * keystrokes to the vault (which decides whether anything goes, workers/engine/typing.ts).
 */
import type { Session } from '../session.svelte';
import type { Username } from '../../codec/username';
import { TypingBoard } from './typing-board';
import { TypingSender } from './typing-sender';

class TypingPeople {
  #now = $state<ReadonlySet<string>>(new Set());
  readonly #board = new TypingBoard((s) => (this.#now = s));

  constructor(session: Session) {
    session.on((e) => this.#board.onEvent(e));
  }

  /** True while `username` is shown as typing to us. */
  has(username: string): boolean {
    return this.#now.has(username);
  }
}

const boards = new WeakMap<Session, TypingPeople>();

export function typingPeople(session: Session): TypingPeople {
  let b = boards.get(session);
  if (!b) boards.set(session, (b = new TypingPeople(session)));
  return b;
}

/** Our typing in the chat with `username`; errors are dropped (a typing notice is best effort). */
export function typingSender(session: Session, username: Username): TypingSender {
  return new TypingSender((typing) => session.vault.sendTyping(username, typing).catch(() => false));
}

/**
 * What the vault answers to a message search (README "Search"): plain data for the UI. A snippet
 * is text with the matched words as UTF-16 ranges; the page renders it as text nodes, never as
 * HTML, so a message cannot inject markup through a search result.
 */
import type { Username } from '../codec/username';

export interface SearchHit {
  /**
   * The chat the message is in (the person's username); for a group message, who wrote it
   * (ourselves for one we sent), the group being `group`.
   */
  username: Username;
  /** The group the message is in (absent for a 1:1 chat): its id, to open it, and its name. */
  group?: { id: string; name: string };
  /** The message's id in that chat (as `MessageView.id` / `GroupMessageView.id`), to open the conversation at it. */
  id: string;
  direction: 'in' | 'out';
  /** Milliseconds since the epoch (the message's sort time). */
  sentAt: number;
  /** A window of the text (or of the file's name) around the first match, '…' where cut. */
  snippet: string;
  /** Matched words in `snippet`: [start, end) UTF-16 offsets, ascending, not overlapping. */
  marks: [number, number][];
  /** The file's name, for a file message. */
  file?: string;
}

export interface SearchResult {
  /** Newest first, at most the limit asked for. */
  hits: SearchHit[];
  /** How many messages match in all. */
  total: number;
}

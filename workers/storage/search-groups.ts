/**
 * Group messages in the sealed search index (README "Search"; SECURITY.md P32, P44): what the
 * index keeps of a group message, written in the message's own transaction by
 * `putGroupMessage` (group-repo.ts), so the group's texts are found like 1:1 ones and a
 * rewritten row never leaves its old words. Entries are flagged `g` and name the group as their
 * chat; their keys are `groupMessages` keys. Knows nothing of queries.
 */
import { reindex, type IndexEntry } from './search-repo';
import { tokens } from './search-text';
import type { Tx } from './schema';

/** The fields of a group message record (group-repo.ts) the index reads. */
interface GroupText {
  key: string;
  groupId: string;
  direction: 'in' | 'out' | 'system';
  body: string;
  sentAt: number;
  /** A file: its name is found too, as for 1:1 files (search-repo.ts). */
  attachment?: { name: string };
}

/** What the index keeps of a group message, or undefined for a notice or one with no words. */
export function groupEntryOf(m: GroupText): IndexEntry | undefined {
  if (m.direction === 'system') return undefined;
  const w = tokens(m.attachment ? `${m.body}\n${m.attachment.name}` : m.body);
  return w.length === 0 ? undefined : { k: m.key, c: m.groupId, g: 1, t: m.sentAt, w };
}

/** Brings the index in line with the group message `m` being written in `tx`. */
export async function indexGroupMessage(tx: Tx, m: GroupText): Promise<void> {
  await reindex(tx, m.key, true, groupEntryOf(m));
}

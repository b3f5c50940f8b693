/**
 * The rows of a conversation log: each message or notice, except that adjacent gap markers
 * (SECURITY.md P14: one per missing message) become one row with a count — "3 messages could not
 * be delivered". Pure; the list keys a group by its first marker's id.
 */
import type { MessageView } from '$lib/vault/views';

export interface GapCount {
  /** Missing messages in the group. */
  count: number;
  /** Of those, how many arrived but could not be read (the rest never arrived). */
  damaged: number;
}

export interface LogRow {
  message: MessageView;
  gap?: GapCount;
}

function gapCode(m: MessageView): 'gap' | 'undecryptable' | undefined {
  if (m.kind !== 'notice') return undefined;
  return m.notice === 'gap' ? 'gap' : m.notice === 'undecryptable' ? 'undecryptable' : undefined;
}

export function logRows(messages: readonly MessageView[]): LogRow[] {
  const rows: LogRow[] = [];
  for (const message of messages) {
    const code = gapCode(message);
    const last = rows.at(-1);
    if (code && last?.gap) {
      last.gap.count++;
      if (code === 'undecryptable') last.gap.damaged++;
      continue;
    }
    rows.push(code ? { message, gap: { count: 1, damaged: code === 'undecryptable' ? 1 : 0 } } : { message });
  }
  return rows;
}

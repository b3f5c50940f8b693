/**
 * Mentions in the group composer and conversation (README "Groups": mentions), as plain text
 * functions: which "@query" the caret is in (the picker's filter), putting a picked member's
 * username in its place, which members a text mentions (carried structurally beside the text,
 * wire/group-content.ts), and the text cut into runs with the mentions marked for display.
 * Usernames follow the username rule (src/lib/codec/username.ts): [a-z0-9_.].
 */

const NAME_CHAR = /[a-z0-9_.]/;

export interface MentionQuery {
  /** Index of the '@'. */
  start: number;
  /** What follows it up to the caret (lowercased). */
  query: string;
}

/** The "@query" the caret at `caret` ends, if any: '@' at the start or after whitespace. */
export function mentionQuery(text: string, caret: number): MentionQuery | undefined {
  let i = caret;
  while (i > 0 && NAME_CHAR.test(text[i - 1]!.toLowerCase())) i--;
  if (i === 0 || text[i - 1] !== '@') return undefined;
  const at = i - 1;
  if (at > 0 && !/\s/.test(text[at - 1]!)) return undefined;
  if (caret - i > 32) return undefined;
  return { start: at, query: text.slice(i, caret).toLowerCase() };
}

/** Members whose username starts with (then contains) the query, at most `max`. */
export function mentionCandidates(members: readonly string[], query: string, max = 8): string[] {
  const starts = members.filter((m) => m.startsWith(query));
  const contains = members.filter((m) => !m.startsWith(query) && m.includes(query));
  return [...starts, ...contains].slice(0, max);
}

/** `text` with the "@query" at `q` (ending at `caret`) replaced by "@username "; the caret after it. */
export function applyMention(text: string, q: MentionQuery, caret: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, q.start) + inserted + rest, caret: q.start + inserted.length };
}

function mentionAt(text: string, i: number, name: string): boolean {
  if (text[i] !== '@' || (i > 0 && !/\s/.test(text[i - 1]!))) return false;
  if (text.slice(i + 1, i + 1 + name.length) !== name) return false;
  const after = text[i + 1 + name.length];
  return after === undefined || !NAME_CHAR.test(after) || (after === '.' && !NAME_CHAR.test(text[i + 2 + name.length] ?? ' '));
}

/** The members `text` mentions as "@username" (each once, in member order). */
export function mentionsIn(text: string, members: readonly string[]): string[] {
  return members.filter((name) => {
    for (let i = text.indexOf(`@${name}`); i >= 0; i = text.indexOf(`@${name}`, i + 1)) if (mentionAt(text, i, name)) return true;
    return false;
  });
}

export interface TextRun {
  text: string;
  /** The username this run mentions. */
  mention?: string;
}

/** `text` as runs, each "@username" of `mentions` its own run (the rest untouched). */
export function mentionRuns(text: string, mentions: readonly string[]): TextRun[] {
  if (mentions.length === 0) return [{ text }];
  const byLength = [...mentions].sort((a, b) => b.length - a.length);
  const runs: TextRun[] = [];
  let plain = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '@') continue;
    const name = byLength.find((n) => mentionAt(text, i, n));
    if (!name) continue;
    if (i > plain) runs.push({ text: text.slice(plain, i) });
    runs.push({ text: `@${name}`, mention: name });
    plain = i + 1 + name.length;
    i = plain - 1;
  }
  if (plain < text.length) runs.push({ text: text.slice(plain) });
  return runs;
}

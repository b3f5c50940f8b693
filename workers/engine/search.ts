/**
 * Message search in the vault (README "Search"; SECURITY.md P32, P44): answers a query from the
 * sealed index (search-repo.ts) without the text ever leaving the worker except as the snippets
 * of the hits it returns. 1:1 and group messages alike (search-groups.ts).
 *
 * A search takes the index's entries, newest first, from the worker's opened copy
 * (search-cache.ts: one read of the index's stamp when nothing changed, the changed buckets
 * otherwise; dropped when the vault locks, P46), keeps those holding every term (the last as a
 * prefix while it is being typed), and opens only the message rows of the hits it returns, in
 * one read, for their snippets.
 *
 * History stored before the index existed is indexed lazily: the first search walks the messages
 * (then the group messages) in pages of BACKFILL_PAGE, one transaction each, recording where it
 * got to in a clear meta row, so an interrupted walk resumes. A vault created with the index
 * starts with both walks done (vault.ts). Owns the query rules; the index's format is
 * search-repo.ts's, the words are search-text.ts's.
 */
import { fail } from '../../src/lib/codec/errors';
import { asUsername } from '../../src/lib/codec/username';
import type { SearchHit, SearchResult } from '../../src/lib/vault/search-views';
import { fromGroupMessageRow, fromGroupRow } from '../storage/group-repo';
import { fromMessageRow } from '../storage/message-repo';
import { entryMatches, parseQuery, type Query } from '../storage/search-text';
import { loadEntries } from '../storage/search-cache';
import { groupEntryOf } from '../storage/search-groups';
import { BACKFILL_GROUPS_META, BACKFILL_META, backfillStep, entryOf } from '../storage/search-repo';
import type { GroupMessageRow, MessageRecord, MessageRow, Tx, Vault } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { snippetOf } from './search-snippet';

export { BACKFILL_GROUPS_META, BACKFILL_META };
/** Messages indexed per backfill transaction. */
export const BACKFILL_PAGE = 500;
/** Hits answered at most (and by default). */
export const MAX_HITS = 100;
const DEFAULT_HITS = 50;
/** A query longer than this is refused (a pasted page is no search). */
export const MAX_QUERY = 200;

interface Progress {
  after?: string;
  done: boolean;
}

/** Runs `step` page by page from the progress in the meta row `meta` until it reports no more. */
async function walk(vault: Vault, meta: string, step: (tx: Tx, after: string | undefined) => Promise<string | undefined>): Promise<void> {
  let p = ((await vault.db.get('meta', meta)) as Progress | undefined) ?? { done: false };
  while (!p.done) {
    const from = p.after;
    p = await commit(vault, async (tx) => {
      const last = await step(tx, from);
      const next: Progress = last === undefined ? { done: true } : { after: last, done: false };
      await tx.objectStore('meta').put(next, meta);
      return next;
    });
  }
}

/** Indexes whatever history the index does not hold yet (a no-op once done). */
export async function backfill(vault: Vault): Promise<void> {
  // Notices have no words: skipped unopened.
  await walk(vault, BACKFILL_META, (tx, from) => backfillStep(tx, 'messages', from, BACKFILL_PAGE, (row) => (row.direction === 'system' ? undefined : entryOf(fromMessageRow(tx, row)))));
  await walk(vault, BACKFILL_GROUPS_META, (tx, from) => backfillStep(tx, 'groupMessages', from, BACKFILL_PAGE, (row) => groupEntryOf(fromGroupMessageRow(tx, row))));
}

function snippetFor(body: string, file: string | undefined, q: Query) {
  return snippetOf(body, q) ?? (file !== undefined ? snippetOf(file, q) : undefined) ?? { text: body || (file ?? ''), marks: [] };
}

function hitOf(m: MessageRecord, q: Query): SearchHit | undefined {
  if (m.direction === 'system') return undefined;
  const file = m.attachment?.name;
  const snippet = snippetFor(m.body, file, q);
  return {
    username: m.username,
    id: m.key,
    direction: m.direction,
    sentAt: m.sentAt,
    snippet: snippet.text,
    marks: snippet.marks,
    ...(file !== undefined ? { file } : {})
  };
}

/** The messages matching `raw`, newest first, at most `limit` of them with snippets. */
export async function searchMessages(ctx: EngineContext, raw: string, limit = DEFAULT_HITS): Promise<SearchResult> {
  const me = requireMe(ctx);
  if (typeof raw !== 'string' || raw.length > MAX_QUERY) fail('InvalidArgument', `a search of ${String(raw?.length)} characters (at most ${MAX_QUERY})`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HITS) fail('InvalidArgument', `a limit of ${limit} hits (1..${MAX_HITS})`);
  const q = parseQuery(raw);
  if (q.terms.length === 0) return { hits: [], total: 0 };
  await backfill(ctx.vault);
  // Already newest first: the first `limit` matches are the page.
  const found = (await loadEntries(ctx.vault)).filter((e) => entryMatches(e.w, q));
  const page = found.slice(0, limit);
  const tx = ctx.vault.db.transaction(['messages', 'groupMessages', 'groups'], 'readonly');
  const groupIds = [...new Set(page.filter((e) => e.g === 1).map((e) => e.c))];
  const [rows, groups] = await Promise.all([
    Promise.all(page.map((e) => (e.g === 1 ? tx.objectStore('groupMessages').get(e.k) : tx.objectStore('messages').get(e.k)))),
    Promise.all(groupIds.map((id) => tx.objectStore('groups').get(id)))
  ]);
  await tx.done;
  const names = new Map(groups.flatMap((g) => (g ? [[g.id, fromGroupRow(ctx.vault.db, g).history.head.name] as const] : [])));
  const hits: SearchHit[] = [];
  page.forEach((e, i) => {
    const row = rows[i];
    if (!row) return;
    if (e.g !== 1) {
      const hit = hitOf(fromMessageRow(ctx.vault.db, row as MessageRow), q);
      if (hit) hits.push(hit);
      return;
    }
    const m = fromGroupMessageRow(ctx.vault.db, row as GroupMessageRow);
    const name = names.get(m.groupId);
    if (m.direction === 'system' || name === undefined) return;
    const file = m.attachment?.name;
    const snippet = snippetFor(m.body, file, q);
    hits.push({
      username: m.direction === 'out' ? me.username : asUsername(m.sender),
      group: { id: m.groupId, name },
      id: m.key,
      direction: m.direction,
      sentAt: m.sentAt,
      snippet: snippet.text,
      marks: snippet.marks,
      ...(file !== undefined ? { file } : {})
    });
  });
  return { hits, total: found.length };
}

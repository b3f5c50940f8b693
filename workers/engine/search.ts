/**
 * Message search in the vault (README "Search"; SECURITY.md P32, P44): answers a query from the
 * sealed index (search-repo.ts) without the text ever leaving the worker except as the snippets
 * of the hits it returns.
 *
 * A search reads the index's buckets (one read; only buckets rewritten since the last search are
 * opened again, search-repo.ts), keeps the entries holding every term (the last as a prefix while
 * it is being typed), newest first, and opens only the message rows of the hits it returns, for
 * their snippets. The opened buckets are dropped when the vault locks (P46), and the read is of
 * what is on disk, so another tab's writes are always seen.
 *
 * History stored before the index existed is indexed lazily: the first search walks the messages
 * in pages of BACKFILL_PAGE, one transaction each, recording where it got to in the clear
 * `searchBackfill` meta row, so an interrupted walk resumes. Owns the query rules; the index's
 * format is search-repo.ts's, the words are search-text.ts's.
 */
import { fail } from '../../src/lib/codec/errors';
import type { SearchHit, SearchResult } from '../../src/lib/vault/search-views';
import { fromMessageRow } from '../storage/message-repo';
import { entryMatches, parseQuery, type Query } from '../storage/search-text';
import { backfillStep, loadEntries } from '../storage/search-repo';
import type { MessageRecord, Vault } from '../storage/schema';
import { commit } from '../storage/vault';
import { requireMe, type EngineContext } from './context';
import { snippetOf } from './search-snippet';

/** Messages indexed per backfill transaction. */
export const BACKFILL_PAGE = 500;
/** Hits answered at most (and by default). */
export const MAX_HITS = 100;
const DEFAULT_HITS = 50;
/** A query longer than this is refused (a pasted page is no search). */
export const MAX_QUERY = 200;
/** The clear meta row of the backfill's progress: `{ after?: message key, done: boolean }`. */
export const BACKFILL_META = 'searchBackfill';

interface Progress {
  after?: string;
  done: boolean;
}

/** Indexes whatever history the index does not hold yet (a no-op once done). */
export async function backfill(vault: Vault): Promise<void> {
  let p = ((await vault.db.get('meta', BACKFILL_META)) as Progress | undefined) ?? { done: false };
  while (!p.done) {
    const from = p.after;
    p = await commit(vault, async (tx) => {
      const last = await backfillStep(tx, from, BACKFILL_PAGE, (row) => fromMessageRow(tx, row));
      const next: Progress = last === undefined ? { done: true } : { after: last, done: false };
      await tx.objectStore('meta').put(next, BACKFILL_META);
      return next;
    });
  }
}

function hitOf(m: MessageRecord, q: Query): SearchHit | undefined {
  if (m.direction === 'system') return undefined;
  const file = m.attachment?.name;
  const snippet = snippetOf(m.body, q) ?? (file !== undefined ? snippetOf(file, q) : undefined) ?? { text: m.body || (file ?? ''), marks: [] };
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
  requireMe(ctx);
  if (typeof raw !== 'string' || raw.length > MAX_QUERY) fail('InvalidArgument', `a search of ${String(raw?.length)} characters (at most ${MAX_QUERY})`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HITS) fail('InvalidArgument', `a limit of ${limit} hits (1..${MAX_HITS})`);
  const q = parseQuery(raw);
  if (q.terms.length === 0) return { hits: [], total: 0 };
  await backfill(ctx.vault);
  const found = (await loadEntries(ctx.vault)).filter((e) => entryMatches(e.w, q));
  found.sort((a, b) => b.t - a.t || (a.k < b.k ? 1 : -1));
  const tx = ctx.vault.db.transaction('messages', 'readonly');
  const rows = await Promise.all(found.slice(0, limit).map((e) => tx.store.get(e.k)));
  await tx.done;
  const hits: SearchHit[] = [];
  for (const row of rows) {
    const hit = row && hitOf(fromMessageRow(ctx.vault.db, row), q);
    if (hit) hits.push(hit);
  }
  return { hits, total: found.length };
}

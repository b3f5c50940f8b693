/**
 * The engine's message search method (README "Search"): the contract's thin facade over
 * search.ts. Engine (engine.ts) inherits it through the facade chain, so the vault contract stays
 * one class the worker delegates to (vault-api.ts). Owns no state.
 */
import type { SearchResult } from '../../src/lib/vault/search-views';
import { EngineRecovery } from './engine-recovery';
import * as search from './search';

export abstract class EngineSearch extends EngineRecovery {
  searchMessages(query: string, limit?: number): Promise<SearchResult> {
    return search.searchMessages(this.ctx, query, limit);
  }
}

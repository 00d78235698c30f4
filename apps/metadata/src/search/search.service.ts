import { Inject, Injectable } from '@nestjs/common';
import { counter } from '@overture/metrics';
import { MAX_BUDGET_DOUBLINGS, SearchCursorCodec, type CursorScope, type SearchCursor } from '../catalogue/search-cursor.js';
import { invalidCursor } from '../metadata.errors.js';
import { DEFAULT_PAGE, type SearchTracksInput } from '../tracks/track.schemas.js';
import type { Track } from '../tracks/track.js';
import { FacetCounter, type FacetResult } from './facet.counter.js';
import { SearchQueryPlanner } from './search-query.planner.js';
import { SearchRepository, type MatchSpec } from './search.repository.js';

/** Most postings one request walks; a page not filled within it ends early with a continuation cursor. */
export const SCAN_BUDGET = 1_000;
const SEARCH: CursorScope = { route: 'search' };

const partialPages = counter({
  name: 'overture_search_partial_pages_total',
  help: 'Search pages answered partial because the scan budget ran out before the page filled.',
});

export interface SearchPage {
  tracks: Track[];
  nextCursor: string;
  partial: boolean;
  facets: FacetResult[];
}

/**
 * Search and browse, a page at a time. Queries are planned here (SearchQueryPlanner), not left to
 * PostgreSQL's planner: the term group with the fewest tracks drives an index walk in sort order, the
 * other groups are probed per row, and a scan budget caps the work of any one request. Facets are
 * counted by FacetCounter.
 */
@Injectable()
export class SearchService {
  constructor(
    @Inject(SearchRepository) private readonly repository: SearchRepository,
    @Inject(SearchQueryPlanner) private readonly planner: SearchQueryPlanner,
    @Inject(FacetCounter) private readonly facets: FacetCounter,
    @Inject(SearchCursorCodec) private readonly cursors: SearchCursorCodec,
  ) {}

  /** @param signal aborts when the caller has gone: the statement running then is cancelled. */
  async search(input: SearchTracksInput, signal?: AbortSignal): Promise<SearchPage> {
    const limit = input.limit || DEFAULT_PAGE;
    const hasText = input.query.trim() !== '';
    const sort = input.sort || (hasText ? 'relevance' : 'popularity');
    const order = sort === 'release_date' ? 'release_date' : 'popularity';
    const cursor = input.cursor ? this.cursors.decode(input.cursor, SEARCH) : undefined;
    if (cursor && cursor.order !== order) throw invalidCursor('cursor belongs to a different sort');

    const compiled = await this.planner.plan(input, sort === 'relevance');
    const tiers: { tier: 0 | 1; spec: MatchSpec }[] = [];
    if (compiled.exact) tiers.push({ tier: 0, spec: compiled.exact });
    if (compiled.broad) tiers.push({ tier: 1, spec: compiled.broad });

    // A cursor from a partial page means the matches are sparse where the walk is: each page in a
    // run of partial pages walks twice as far as the last (up to 8 × SCAN_BUDGET), so a client
    // following next_cursor through a rare combination needs tens of requests, not hundreds. A first
    // page, and every page after a full one, keeps the base budget (figures: docs/benchmarks.md).
    const streak = cursor?.partialStreak ?? 0;
    const budget = SCAN_BUDGET * 2 ** streak;
    const found: { track: Track; key: number; doc: number; tier: 0 | 1 }[] = [];
    let next: SearchCursor | undefined;
    let partial = false;
    for (const { tier, spec } of tiers) {
      if (cursor && tier < cursor.tier) continue;
      const after = cursor && cursor.tier === tier ? cursor.after : undefined;
      const want = limit + 1 - found.length;
      const walk =
        order === 'popularity'
          ? await this.repository.walkByPopularity(spec, want, budget, after, signal)
          : await this.repository.walkByReleaseDate(spec, want, budget, after, signal);
      const seen = new Set(found.map((f) => f.track.id));
      for (const row of walk.tracks) if (!seen.has(row.track.id)) found.push({ ...row, tier });
      if (walk.scanEnd && found.length <= limit) {
        // The budget ran out before the page filled: hand back what was found and where to go on.
        partial = true;
        next = { order, tier, after: walk.scanEnd, partialStreak: Math.min(streak + 1, MAX_BUDGET_DOUBLINGS) };
        break;
      }
      if (found.length > limit) break;
    }
    if (partial) partialPages.inc();
    const page = found.slice(0, limit);
    const last = page.at(-1);
    if (!next && found.length > limit && last) next = { order, tier: last.tier, after: { key: last.key, doc: last.doc } };
    const facets = input.facets.length ? await this.facets.count(compiled, input.facets, signal) : [];
    return { tracks: page.map((f) => f.track), nextCursor: next ? this.cursors.encode(next, SEARCH) : '', partial, facets };
  }
}

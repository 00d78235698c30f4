import type { TermCount, TermInfo } from '../catalogue/term-info.js';
import { InvalidatedCache } from './invalidated-cache.js';

/**
 * Dictionary lookups of the search path (term → id and track count, prefix expansions, fuzzy
 * neighbours), kept in memory so a typical page costs one database round trip instead of two or
 * three. The counts only steer which term group drives a walk and how large a facet sample is, but a
 * missing term ends a search early, so the cache must not outlive a write: every write NOTIFYs and
 * any notification clears it (TrackCacheListener).
 */
export class TermCache extends InvalidatedCache<readonly TermCount[]> {
  constructor(capacity = 20_000) {
    super('term', capacity);
  }

  /**
   * The cached value of `key`, or `load()`'s (stored unless a write came in meanwhile). A key's
   * prefix says what it holds (`^` prefix expansions, `&` a term's pairs…), so it holds one kind.
   */
  async lookup<T extends TermCount>(key: string, load: () => Promise<readonly T[]>): Promise<readonly T[]> {
    const hit = this.get(key) as readonly T[] | undefined;
    if (hit) return hit;
    const generation = this.currentGeneration();
    const value = await load();
    this.store([[key, value]], generation);
    return value;
  }

  /** Looks up many single terms: cached ones from memory, the rest in one `load` call. */
  async lookupTerms(terms: readonly string[], load: (missing: string[]) => Promise<TermInfo[]>): Promise<TermInfo[]> {
    const found: TermInfo[] = [];
    const missing: string[] = [];
    for (const term of terms) {
      const hit = this.get(`=${term}`) as readonly TermInfo[] | undefined;
      if (hit) found.push(...hit);
      else missing.push(term);
    }
    if (missing.length === 0) return found;
    const generation = this.currentGeneration();
    const loaded = await load(missing);
    const byTerm = new Map(loaded.map((t) => [t.term, t]));
    // Unknown terms are cached too (as "no such term"): a query naming them needs no round trip.
    this.store(
      missing.map((term) => {
        const known = byTerm.get(term);
        return [`=${term}`, known ? [known] : []] as const;
      }),
      generation,
    );
    return [...found, ...loaded];
  }
}

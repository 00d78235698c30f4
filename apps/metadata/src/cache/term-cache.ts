import type { TermInfo } from '../search/search.repository.js';

/**
 * Dictionary lookups of the search path (term → id and track count, prefix expansions, fuzzy
 * neighbours), kept in memory so a typical page costs one database round trip instead of two or
 * three. The counts only steer which term group drives a walk and how large a facet sample is, but a
 * missing term ends a search early, so the cache must not outlive a write: every write NOTIFYs (see
 * TrackCacheListener) and any notification clears it; while that channel is down it is off. Bounded:
 * past `capacity` entries the oldest go.
 */
export class TermCache {
  private readonly entries = new Map<string, readonly TermInfo[]>();
  private generation = 0;
  private enabled = false;

  constructor(private readonly capacity = 20_000) {}

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.clear();
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /**
   * The cached value of `key`, or `load()`'s, stored unless the cache was cleared while it ran (a
   * read that raced a write must not be kept).
   */
  async get(key: string, load: () => Promise<readonly TermInfo[]>): Promise<readonly TermInfo[]> {
    if (!this.enabled) return load();
    const hit = this.entries.get(key);
    if (hit) return hit;
    const generation = this.generation;
    const value = await load();
    if (this.enabled && generation === this.generation) {
      this.entries.set(key, value);
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    }
    return value;
  }

  /** Looks up many single terms: cached ones from memory, the rest in one `load` call. */
  async many(terms: readonly string[], load: (missing: string[]) => Promise<TermInfo[]>): Promise<TermInfo[]> {
    if (!this.enabled) return load([...terms]);
    const found: TermInfo[] = [];
    const missing: string[] = [];
    for (const term of terms) {
      const hit = this.entries.get(`=${term}`);
      if (hit) found.push(...hit);
      else missing.push(term);
    }
    if (missing.length === 0) return found;
    const generation = this.generation;
    const loaded = await load(missing);
    if (this.enabled && generation === this.generation) {
      const byTerm = new Map(loaded.map((t) => [t.term, t]));
      // Unknown terms are cached too (as "no such term"): a query naming them needs no round trip.
      for (const term of missing) {
        const known = byTerm.get(term);
        this.entries.set(`=${term}`, known ? [known] : []);
      }
      while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    }
    return [...found, ...loaded];
  }

  get size(): number {
    return this.entries.size;
  }
}

import { counter } from '@overture/metrics';

const requests = counter({
  name: 'overture_cache_requests_total',
  help: 'Lookups in an in-process cache, by cache and result (hit, miss; a cache switched off misses).',
  labelNames: ['cache', 'result'],
});

/**
 * A bounded in-process LRU (Map keeps insertion order: the first key is the least recently used)
 * whose entries writers in any replica invalidate through the database (TrackCacheListener). It serves
 * nothing while it is off, i.e. while invalidations could be missed. A read that started before an
 * invalidation must not store what it read, so every store carries the generation observed before
 * the read.
 */
export class InvalidatedCache<V> {
  private readonly entries = new Map<string, V>();
  private generation = 0;
  private enabled = false;
  private readonly hits: { inc(): void };
  private readonly misses: { inc(): void };

  /** @param name names the cache in `overture_cache_requests_total{cache}` (e.g. `track`). */
  constructor(
    name: string,
    private readonly capacity: number,
  ) {
    this.hits = requests.labels(name, 'hit');
    this.misses = requests.labels(name, 'miss');
  }

  /** Whether cached entries may be served: only while invalidations are known to arrive. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled && this.capacity > 0;
    this.clear();
  }

  currentGeneration(): number {
    return this.generation;
  }

  get(key: string): V | undefined {
    if (!this.enabled) {
      this.misses.inc();
      return undefined;
    }
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.hits.inc();
      this.entries.delete(key);
      this.entries.set(key, value);
    } else {
      this.misses.inc();
    }
    return value;
  }

  /** Stores entries read since `generation`, unless an invalidation happened meanwhile. */
  store(entries: Iterable<readonly [string, V]>, generation: number): void {
    if (!this.enabled || generation !== this.generation) return;
    for (const [key, value] of entries) {
      this.entries.delete(key);
      this.entries.set(key, value);
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  invalidate(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

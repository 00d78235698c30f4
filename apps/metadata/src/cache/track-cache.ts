import type { Track } from '../tracks/track.js';

/**
 * A bounded LRU of tracks for get and batch-get (Map keeps insertion order: the first key is the
 * least recently used). Writers in any replica invalidate through the database (see
 * TrackCacheListener). A read that started before an invalidation must not store what it read, so
 * every store carries the generation observed before the read.
 */
export class TrackCache {
  private readonly entries = new Map<string, Track>();
  private generation = 0;
  private enabled = false;

  constructor(private readonly capacity: number) {}

  /** Whether cached entries may be served: only while invalidations are known to arrive. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled && this.capacity > 0;
    this.clear();
  }

  currentGeneration(): number {
    return this.generation;
  }

  get(id: string): Track | undefined {
    if (!this.enabled) return undefined;
    const track = this.entries.get(id);
    if (track) {
      this.entries.delete(id);
      this.entries.set(id, track);
    }
    return track;
  }

  /** Stores tracks read since `generation`, unless an invalidation happened meanwhile. */
  store(tracks: readonly Track[], generation: number): void {
    if (!this.enabled || generation !== this.generation) return;
    for (const track of tracks) {
      this.entries.delete(track.id);
      this.entries.set(track.id, track);
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  invalidate(id: string): void {
    this.generation++;
    this.entries.delete(id);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

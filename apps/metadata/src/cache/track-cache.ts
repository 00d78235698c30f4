import type { Track } from '../tracks/track.js';
import { InvalidatedCache } from './invalidated-cache.js';

/** Tracks by id for get and batch-get, invalidated per track id by writers in any replica. */
export class TrackCache extends InvalidatedCache<Track> {
  constructor(capacity: number) {
    super('track', capacity);
  }
}

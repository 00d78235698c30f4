import type { TrackFeatures } from '../features/track-features.js';

export type RecommendationReason = 'co_played' | 'shared_attributes' | 'popular';

/** `popular` when the user has no history to personalise from (or nothing could be scored). */
export type RecommendationStrategy = 'personalised' | 'popular';

export interface Recommendation {
  trackId: string;
  score: number;
  reason: RecommendationReason;
}

export interface Recommendations {
  tracks: Recommendation[];
  strategy: RecommendationStrategy;
}

/** What one user did with one track, with the track's features when this service has them. */
export interface ListeningHistoryEntry {
  trackId: string;
  plays: number;
  skips: number;
  lastPlayedAt: Date | null;
  lastEventAt: Date;
  features: TrackFeatures | undefined;
}

/** A track co-played with some of the user's recent plays; `count` sums the co-play counts. */
export interface CoPlayCandidate {
  trackId: string;
  count: number;
  features: TrackFeatures | undefined;
}

/** A track by how often it was played, in this service's own data. */
export interface PlayedTrack {
  trackId: string;
  plays: number;
}

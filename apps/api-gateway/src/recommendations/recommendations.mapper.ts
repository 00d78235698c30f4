import type { metadataV1, recommendationV1 } from '@overture/contracts';
import { FALLBACK_STRATEGY, type RecommendationsView } from '@overture/gateway-contract';
import { toTrackView } from '../catalogue/catalogue.mapper.js';

/** Recommended tracks with their catalogue entries; a track that left the catalogue since it was recommended is dropped. */
export function toRecommendationsView(
  recommended: recommendationV1.GetRecommendationsResponse,
  tracks: readonly metadataV1.Track[],
): RecommendationsView {
  const byId = new Map(tracks.map((track) => [track.trackId, track]));
  return {
    strategy: recommended.strategy,
    tracks: recommended.tracks.flatMap((r) => {
      const track = byId.get(r.trackId);
      return track ? [{ track: toTrackView(track), score: r.score, reason: r.reason }] : [];
    }),
  };
}

/** The catalogue's most popular tracks, standing in when recommendations are unavailable. */
export function toFallbackView(popular: readonly metadataV1.Track[]): RecommendationsView {
  return {
    strategy: FALLBACK_STRATEGY,
    tracks: popular.map((track) => ({ track: toTrackView(track), score: track.popularity / 100, reason: 'popular' })),
  };
}

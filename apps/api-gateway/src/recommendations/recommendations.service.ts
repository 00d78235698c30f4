import { status } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { recommendationV1 } from '@overture/contracts';
import { toTrackView } from '../catalogue/track.view.js';
import type { CallContext } from '../downstream/call-context.js';
import { DownstreamError } from '../downstream/downstream-error.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import { RecommendationClient } from '../downstream/recommendation.client.js';
import { FALLBACK_STRATEGY, type RecommendationsView } from './recommendations.schemas.js';

export interface Recommendations {
  readonly view: RecommendationsView;
  /** True when the recommendation service could not answer and popular tracks stand in. */
  readonly degraded: boolean;
}

/**
 * Personal recommendations with their tracks resolved from the catalogue. When the recommendation
 * service is down or slow (or its breaker is open) the answer degrades to the catalogue's most
 * popular tracks instead of failing; only if the catalogue is down too does the request fail.
 */
@Injectable()
export class RecommendationsService {
  constructor(
    @Inject(RecommendationClient) private readonly recommendation: RecommendationClient,
    @Inject(MetadataClient) private readonly metadata: MetadataClient,
  ) {}

  async recommend(ctx: CallContext, userId: string, limit: number): Promise<Recommendations> {
    let recommended: recommendationV1.GetRecommendationsResponse;
    try {
      recommended = await this.recommendation.getRecommendations(ctx, userId, limit);
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      return { view: await this.popular(ctx, limit), degraded: true };
    }
    const { tracks } = await this.metadata.batchGetTracks(ctx, recommended.tracks.map((t) => t.trackId));
    const byId = new Map(tracks.map((track) => [track.trackId, track]));
    return {
      view: {
        strategy: recommended.strategy,
        // A track that left the catalogue since it was recommended is dropped.
        tracks: recommended.tracks.flatMap((r) => {
          const track = byId.get(r.trackId);
          return track ? [{ track: toTrackView(track), score: r.score, reason: r.reason }] : [];
        }),
      },
      degraded: false,
    };
  }

  private async popular(ctx: CallContext, limit: number): Promise<RecommendationsView> {
    const page = await this.metadata.searchTracks(ctx, { query: '', genre: '', mood: '', language: '', limit, cursor: '' });
    return {
      strategy: FALLBACK_STRATEGY,
      tracks: page.tracks.map((track) => ({ track: toTrackView(track), score: track.popularity / 100, reason: 'popular' })),
    };
  }
}

function isUnavailable(error: unknown): boolean {
  return error instanceof DownstreamError && (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED);
}

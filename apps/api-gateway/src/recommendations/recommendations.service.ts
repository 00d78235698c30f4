import { status } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { recommendationV1 } from '@overture/contracts';
import type { RecommendationsView } from '@overture/gateway-contract';
import type { CallContext } from '../downstream/call-context.js';
import { DownstreamError } from '../downstream/downstream-error.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import { RecommendationClient } from '../downstream/recommendation.client.js';
import { toFallbackView, toRecommendationsView } from './recommendations.mapper.js';

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
    const { tracks } = await this.metadata.batchGetTracks(
      ctx,
      recommended.tracks.map((t) => t.trackId),
    );
    return { view: toRecommendationsView(recommended, tracks), degraded: false };
  }

  private async popular(ctx: CallContext, limit: number): Promise<RecommendationsView> {
    const page = await this.metadata.searchTracks(ctx, { query: '', genre: '', mood: '', language: '', limit, cursor: '' });
    return toFallbackView(page.tracks);
  }
}

function isUnavailable(error: unknown): boolean {
  return error instanceof DownstreamError && (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED);
}

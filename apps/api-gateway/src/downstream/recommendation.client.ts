import { Inject, Injectable } from '@nestjs/common';
import type { recommendationV1 } from '@overture/contracts';
import type { CallContext } from './call-context.js';
import { RECOMMENDATION_DOWNSTREAM } from './downstream.tokens.js';
import type { Downstream } from './downstream.js';

/** The recommendation service, as the gateway uses it. */
@Injectable()
export class RecommendationClient {
  constructor(
    @Inject(RECOMMENDATION_DOWNSTREAM) private readonly recommendation: Downstream<recommendationV1.RecommendationServiceClient>,
  ) {}

  getRecommendations(ctx: CallContext, userId: string, limit: number): Promise<recommendationV1.GetRecommendationsResponse> {
    return this.recommendation.read(ctx, (c, md, opts) => c.getRecommendations({ userId, limit }, md, opts));
  }
}

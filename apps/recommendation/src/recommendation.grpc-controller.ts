import { Controller, Inject } from '@nestjs/common';
import { recommendationV1 } from '@overture/contracts';
import { parseRequest } from '@overture/grpc';
import { AllowAnonymous, Callers, RequirePermission } from '@overture/identity';
import { recordPlayEventsSchema } from './ingest/play-event.schemas.js';
import { RecordPlayEventsUseCase } from './ingest/record-play-events.use-case.js';
import { getRecommendationsSchema } from './recommend/recommendation.schemas.js';
import { RecommendationService } from './recommend/recommendation.service.js';

@Controller()
@recommendationV1.RecommendationServiceControllerMethods()
export class RecommendationGrpcController implements recommendationV1.RecommendationServiceController {
  constructor(
    @Inject(RecordPlayEventsUseCase) private readonly recordPlayEventsUseCase: RecordPlayEventsUseCase,
    @Inject(RecommendationService) private readonly recommendations: RecommendationService,
  ) {}

  // Called by playback-queue's outbox relay, not on behalf of a user: no user token, but only
  // playback-queue's certificate is accepted, so nobody else can record plays.
  @Callers('playback-queue')
  @AllowAnonymous()
  async recordPlayEvents(request: recommendationV1.RecordPlayEventsRequest): Promise<recommendationV1.RecordPlayEventsResponse> {
    const { events } = parseRequest(recordPlayEventsSchema, request);
    return this.recordPlayEventsUseCase.execute(events);
  }

  @Callers('api-gateway')
  @RequirePermission('recommendations:read')
  async getRecommendations(request: recommendationV1.GetRecommendationsRequest): Promise<recommendationV1.GetRecommendationsResponse> {
    const { userId, limit } = parseRequest(getRecommendationsSchema, request);
    const result = await this.recommendations.recommend(userId, limit);
    return {
      tracks: result.tracks.map((t) => ({ trackId: t.trackId, score: t.score, reason: t.reason })),
      strategy: result.strategy,
    };
  }
}

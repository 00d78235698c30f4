import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  FALLBACK_STRATEGY,
  recommendationsQuerySchema,
  recommendationsViewSchema,
  type RecommendationsQuery,
  type RecommendationsView,
} from '@overture/gateway-contract';
import { RequirePermission } from '@overture/identity';
import type { FastifyReply } from 'fastify';
import { CurrentUser } from '../auth/current-user.decorator.js';
import type { Principal } from '../auth/principal.js';
import type { CallContext } from '../downstream/call-context.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx } from '../http/request-params.js';
import { RecommendationsService } from './recommendations.service.js';

@ApiTags('recommendations')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
@RequirePermission('recommendations:read')
@Controller('v1/recommendations')
export class RecommendationsController {
  constructor(@Inject(RecommendationsService) private readonly recommendations: RecommendationsService) {}

  @Get()
  @ApiOperation({
    summary: 'Tracks recommended for the caller, with a reason each',
    description:
      `When recommendations are unavailable the answer is still 200, with strategy "${FALLBACK_STRATEGY}" ` +
      '(the most popular tracks) and a `Warning: 199 - "recommendations degraded"` header.',
  })
  @ApiResponse({
    status: 200,
    description: 'Recommendations',
    standardSchema: recommendationsViewSchema,
    headers: { Warning: { description: 'Present when degraded: 199 - "recommendations degraded"', schema: { type: 'string' } } },
  })
  @ApiErrors(400, 401, 403, 503, 504)
  async recommend(
    @CurrentUser() user: Principal,
    @Query({ schema: recommendationsQuerySchema }) query: RecommendationsQuery,
    @CallCtx() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecommendationsView> {
    const result = await this.recommendations.recommend(ctx, user.userId, query.limit);
    if (result.degraded) void reply.header('warning', '199 - "recommendations degraded"');
    return result.view;
  }
}

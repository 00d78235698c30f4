import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser } from '../auth/current-user.decorator.js';
import type { Principal } from '../auth/principal.js';
import type { CallContext } from '../downstream/call-context.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx, HeaderParam } from '../http/request-params.js';
import {
  addToQueueBodySchema,
  ifMatchSchema,
  playerStateViewSchema,
  progressBodySchema,
  queueItemParamsSchema,
  queueViewSchema,
  skipBodySchema,
  type AddToQueueBody,
  type PlayerStateView,
  type ProgressBody,
  type QueueItemParams,
  type QueueView,
  type SkipBody,
} from './player.schemas.js';
import { PlayerService } from './player.service.js';

const ETAG = { ETag: { description: 'The queue version, quoted; send it back in If-Match.', schema: { type: 'string' as const } } };

/** The caller's own queue and playback state; the user is always the token's subject. */
@ApiTags('player')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
@Controller('v1/me/player')
export class PlayerController {
  constructor(@Inject(PlayerService) private readonly player: PlayerService) {}

  @Get('queue')
  @ApiOperation({ summary: 'The play queue', description: 'The ETag header carries the queue version, for If-Match.' })
  @ApiResponse({ status: 200, description: 'The queue', standardSchema: queueViewSchema, headers: ETAG })
  @ApiErrors(401, 503, 504)
  async queue(
    @CurrentUser() user: Principal,
    @CallCtx() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return withETag(reply, await this.player.queue(ctx, user.userId));
  }

  @Post('queue')
  @HttpCode(201)
  @ApiOperation({ summary: 'Append tracks to the queue' })
  @ApiResponse({ status: 201, description: 'The queue after the change', standardSchema: queueViewSchema, headers: ETAG })
  @ApiErrors(400, 401, 409, 413, 503, 504)
  async addToQueue(
    @CurrentUser() user: Principal,
    @Body({ schema: addToQueueBodySchema }) body: AddToQueueBody,
    @HeaderParam('If-Match', ifMatchSchema) expectedVersion: number | undefined,
    @CallCtx() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return withETag(reply, await this.player.addToQueue(ctx, user.userId, body.track_ids, expectedVersion));
  }

  @Delete('queue/items/:queue_item_id')
  @ApiOperation({ summary: 'Remove one item from the queue' })
  @ApiResponse({ status: 200, description: 'The queue after the change', standardSchema: queueViewSchema, headers: ETAG })
  @ApiErrors(400, 401, 404, 409, 503, 504)
  async removeItem(
    @CurrentUser() user: Principal,
    @Param({ schema: queueItemParamsSchema }) params: QueueItemParams,
    @HeaderParam('If-Match', ifMatchSchema) expectedVersion: number | undefined,
    @CallCtx() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return withETag(reply, await this.player.removeItem(ctx, user.userId, params.queue_item_id, expectedVersion));
  }

  @Post('next')
  @HttpCode(200)
  @ApiOperation({ summary: 'Skip to the next item in the queue', description: '409 NO_NEXT_TRACK at the end of the queue.' })
  @ApiResponse({ status: 200, description: 'The playback state after the skip', standardSchema: playerStateViewSchema })
  @ApiErrors(400, 401, 409, 503, 504)
  async next(@CurrentUser() user: Principal, @Body({ schema: skipBodySchema }) body: SkipBody, @CallCtx() ctx: CallContext): Promise<PlayerStateView> {
    return this.player.skipToNext(ctx, user.userId, body.device_id);
  }

  @Post('progress')
  @HttpCode(200)
  @ApiOperation({ summary: "Report a device's playback progress (heartbeat)" })
  @ApiResponse({ status: 200, description: 'The playback state after the report', standardSchema: playerStateViewSchema })
  @ApiErrors(400, 401, 404, 409, 503, 504)
  async progress(
    @CurrentUser() user: Principal,
    @Body({ schema: progressBodySchema }) body: ProgressBody,
    @CallCtx() ctx: CallContext,
  ): Promise<PlayerStateView> {
    return this.player.reportProgress(ctx, user.userId, body);
  }

  @Get()
  @ApiOperation({ summary: 'The playback state' })
  @ApiResponse({ status: 200, description: 'The playback state', standardSchema: playerStateViewSchema })
  @ApiResponse({ status: 204, description: 'Nothing has been played yet' })
  @ApiErrors(401, 503, 504)
  async state(
    @CurrentUser() user: Principal,
    @CallCtx() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PlayerStateView | undefined> {
    const state = await this.player.state(ctx, user.userId);
    if (!state) void reply.status(204);
    return state;
  }
}

function withETag(reply: FastifyReply, queue: QueueView): QueueView {
  void reply.header('etag', `"${queue.version}"`);
  return queue;
}

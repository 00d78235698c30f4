import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
  UseFilters,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommonReason, PlaybackReason } from '@overture/contracts';
import { RequirePermission } from '@overture/identity';
import {
  addToQueueBodySchema,
  clearQueueQuerySchema,
  devicesViewSchema,
  ifNoneMatchSchema,
  jumpBodySchema,
  moveItemBodySchema,
  playerStateViewSchema,
  previousBodySchema,
  progressBodySchema,
  progressViewSchema,
  queueItemParamsSchema,
  queueViewSchema,
  recentlyPlayedQuerySchema,
  recentlyPlayedViewSchema,
  removeItemsBodySchema,
  repeatBodySchema,
  replaceQueueBodySchema,
  shuffleBodySchema,
  skipBodySchema,
  transferBodySchema,
  type AddToQueueBody,
  type ClearQueueQuery,
  type DevicesView,
  type JumpBody,
  type MoveItemBody,
  type PlayerStateView,
  type PreviousBody,
  type ProgressBody,
  type ProgressView,
  type QueueItemParams,
  type QueueView,
  type RecentlyPlayedQuery,
  type RecentlyPlayedView,
  type RemoveItemsBody,
  type RepeatBody,
  type ReplaceQueueBody,
  type ShuffleBody,
  type SkipBody,
  type TransferBody,
} from '@overture/gateway-contract';
import type { FastifyReply } from 'fastify';
import { CurrentUser } from '../auth/current-user.decorator.js';
import type { Principal } from '../auth/principal.js';
import type { CallContext } from '../downstream/call-context.js';
import { answer, IdempotencyKey } from '../http/idempotency-key.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx, HeaderParam } from '../http/request-params.js';
import { PlayerService, type QueueEdit } from './player.service.js';
import { QueueConflictFilter } from './queue-conflict.filter.js';
import { QueueEditParams } from './queue-edit.decorator.js';
import { queueETag, QueueETagInterceptor } from './queue-etag.interceptor.js';

const ETAG = { ETag: { description: 'The queue version, quoted; send it back in If-Match.', schema: { type: 'string' as const } } };
const CONFLICT_NOTE = 'With If-Match, 409 VERSION_MISMATCH (body also carries the current `queue`) when the queue has moved on.';

/** A route that changes the queue: it answers with the queue after the change, its version as the ETag. */
const QueueChange = (status = 200): MethodDecorator =>
  applyDecorators(
    UseInterceptors(QueueETagInterceptor),
    ApiResponse({ status, description: 'The queue after the change', standardSchema: queueViewSchema, headers: ETAG }),
  );

/** The caller's own queue, playback state, devices and history; the user is always the token's subject. */
@ApiTags('player')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
@UseFilters(QueueConflictFilter)
// Reads need player:read; every route that changes something overrides it with player:write.
@RequirePermission('player:read')
@Controller('v1/me/player')
export class PlayerController {
  constructor(@Inject(PlayerService) private readonly player: PlayerService) {}

  @Get('queue')
  @ApiOperation({ summary: 'The play queue', description: 'The ETag header carries the queue version, for If-Match and If-None-Match.' })
  @ApiResponse({ status: 200, description: 'The queue', standardSchema: queueViewSchema, headers: ETAG })
  @ApiResponse({ status: 304, description: 'Not modified since the ETag sent in If-None-Match' })
  @ApiErrors(401, 503, 504)
  async queue(
    @CurrentUser() user: Principal,
    @HeaderParam('If-None-Match', ifNoneMatchSchema) ifNoneMatch: string | undefined,
    @CallCtx() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView | undefined> {
    if (ifNoneMatch !== undefined) {
      const version = await this.player.queueVersion(ctx, user.userId);
      if (ifNoneMatch.split(',').some((tag) => tag.trim() === queueETag(version))) {
        void reply.status(304).header('etag', queueETag(version));
        return undefined;
      }
    }
    const queue = await this.player.queue(ctx, user.userId);
    void reply.header('etag', queueETag(queue.version));
    return queue;
  }

  @RequirePermission('player:write')
  @Post('queue')
  @HttpCode(201)
  @ApiOperation({ summary: 'Add tracks to the queue: at the end, or next (after the current item)', description: CONFLICT_NOTE })
  @QueueChange(201)
  @ApiErrors(
    [400, PlaybackReason.UNKNOWN_TRACK],
    401,
    [409, PlaybackReason.VERSION_MISMATCH, PlaybackReason.QUEUE_FULL],
    413,
    422,
    // Playback looks the tracks up in metadata, which may be down or slow.
    [503, CommonReason.DEPENDENCY_UNAVAILABLE],
    [504, CommonReason.DEPENDENCY_UNAVAILABLE],
  )
  async addToQueue(
    @CurrentUser() user: Principal,
    @Body({ schema: addToQueueBodySchema }) body: AddToQueueBody,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.addToQueue(ctx, user.userId, body.track_ids, body.position, edit, key));
  }

  @RequirePermission('player:write')
  @Put('queue')
  @ApiOperation({ summary: 'Replace the whole queue', description: `Nothing is current afterwards. ${CONFLICT_NOTE}` })
  @QueueChange()
  @ApiErrors(
    [400, PlaybackReason.UNKNOWN_TRACK],
    401,
    [409, PlaybackReason.VERSION_MISMATCH, PlaybackReason.QUEUE_FULL],
    413,
    422,
    // Playback looks the tracks up in metadata, which may be down or slow.
    [503, CommonReason.DEPENDENCY_UNAVAILABLE],
    [504, CommonReason.DEPENDENCY_UNAVAILABLE],
  )
  async replaceQueue(
    @CurrentUser() user: Principal,
    @Body({ schema: replaceQueueBodySchema }) body: ReplaceQueueBody,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.replaceQueue(ctx, user.userId, body.track_ids, edit, key));
  }

  @RequirePermission('player:write')
  @Delete('queue')
  @ApiOperation({ summary: 'Clear the upcoming items (after the current one) or the whole queue', description: CONFLICT_NOTE })
  @QueueChange()
  @ApiErrors(400, 401, [409, PlaybackReason.VERSION_MISMATCH], 422, 503, 504)
  async clearQueue(
    @CurrentUser() user: Principal,
    @Query({ schema: clearQueueQuerySchema }) query: ClearQueueQuery,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.clearQueue(ctx, user.userId, query.scope, edit, key));
  }

  @RequirePermission('player:write')
  @Delete('queue/items/:queue_item_id')
  @ApiOperation({ summary: 'Remove one item from the queue', description: CONFLICT_NOTE })
  @QueueChange()
  @ApiErrors(400, 401, [404, PlaybackReason.QUEUE_ITEM_NOT_FOUND], [409, PlaybackReason.VERSION_MISMATCH], 422, 503, 504)
  async removeItem(
    @CurrentUser() user: Principal,
    @Param({ schema: queueItemParamsSchema }) params: QueueItemParams,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.removeItem(ctx, user.userId, params.queue_item_id, edit, key));
  }

  @RequirePermission('player:write')
  @Post('queue/remove')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove several items at once', description: `All or none: 404 names unknown items. ${CONFLICT_NOTE}` })
  @QueueChange()
  @ApiErrors(400, 401, [404, PlaybackReason.QUEUE_ITEM_NOT_FOUND], [409, PlaybackReason.VERSION_MISMATCH], 422, 503, 504)
  async removeItems(
    @CurrentUser() user: Principal,
    @Body({ schema: removeItemsBodySchema }) body: RemoveItemsBody,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.removeItems(ctx, user.userId, body.queue_item_ids, edit, key));
  }

  @RequirePermission('player:write')
  @Post('queue/items/:queue_item_id/move')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move an item before another one, or to the end', description: CONFLICT_NOTE })
  @QueueChange()
  @ApiErrors(
    [400, PlaybackReason.INVALID_MOVE],
    401,
    [404, PlaybackReason.QUEUE_ITEM_NOT_FOUND],
    [409, PlaybackReason.VERSION_MISMATCH],
    422,
    503,
    504,
  )
  async moveItem(
    @CurrentUser() user: Principal,
    @Param({ schema: queueItemParamsSchema }) params: QueueItemParams,
    @Body({ schema: moveItemBodySchema }) body: MoveItemBody,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.moveItem(ctx, user.userId, params.queue_item_id, body.before_queue_item_id, edit, key));
  }

  @RequirePermission('player:write')
  @Put('shuffle')
  @ApiOperation({ summary: 'Shuffle the upcoming items, or restore their order', description: CONFLICT_NOTE })
  @QueueChange()
  @ApiErrors(400, 401, [409, PlaybackReason.VERSION_MISMATCH], 422, 503, 504)
  async shuffle(
    @CurrentUser() user: Principal,
    @Body({ schema: shuffleBodySchema }) body: ShuffleBody,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.setShuffle(ctx, user.userId, body.shuffle, edit, key));
  }

  @RequirePermission('player:write')
  @Put('repeat')
  @ApiOperation({ summary: 'Set repeat: off, track or context', description: CONFLICT_NOTE })
  @QueueChange()
  @ApiErrors(400, 401, [409, PlaybackReason.VERSION_MISMATCH], 422, 503, 504)
  async repeat(
    @CurrentUser() user: Principal,
    @Body({ schema: repeatBodySchema }) body: RepeatBody,
    @QueueEditParams() edit: QueueEdit,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueView> {
    return answer(reply, await this.player.setRepeat(ctx, user.userId, body.repeat, edit, key));
  }

  @RequirePermission('player:write')
  @Post('next')
  @HttpCode(200)
  @ApiOperation({ summary: 'Skip to the next item', description: '409 NO_NEXT_TRACK at the end of the queue (unless repeating).' })
  @ApiResponse({ status: 200, description: 'The playback state after the skip', standardSchema: playerStateViewSchema })
  @ApiErrors(400, 401, [409, PlaybackReason.NO_NEXT_TRACK, PlaybackReason.QUEUE_EMPTY], 422, 503, 504)
  async next(
    @CurrentUser() user: Principal,
    @Body({ schema: skipBodySchema }) body: SkipBody,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PlayerStateView> {
    return answer(reply, await this.player.skipToNext(ctx, user.userId, body.device_id, body.track_ended, key));
  }

  @RequirePermission('player:write')
  @Post('previous')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Go back to the previous item',
    description: '409 NO_PREVIOUS_TRACK at the start of the queue (unless repeating).',
  })
  @ApiResponse({ status: 200, description: 'The playback state after the change', standardSchema: playerStateViewSchema })
  @ApiErrors(400, 401, [409, PlaybackReason.NO_PREVIOUS_TRACK, PlaybackReason.QUEUE_EMPTY], 422, 503, 504)
  async previous(
    @CurrentUser() user: Principal,
    @Body({ schema: previousBodySchema }) body: PreviousBody,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PlayerStateView> {
    return answer(reply, await this.player.skipToPrevious(ctx, user.userId, body.device_id, key));
  }

  @RequirePermission('player:write')
  @Post('queue/items/:queue_item_id/play')
  @HttpCode(200)
  @ApiOperation({ summary: 'Jump to an item and play it from its start' })
  @ApiResponse({ status: 200, description: 'The playback state after the jump', standardSchema: playerStateViewSchema })
  @ApiErrors(400, 401, [404, PlaybackReason.QUEUE_ITEM_NOT_FOUND], 409, 422, 503, 504)
  async jump(
    @CurrentUser() user: Principal,
    @Param({ schema: queueItemParamsSchema }) params: QueueItemParams,
    @Body({ schema: jumpBodySchema }) body: JumpBody,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PlayerStateView> {
    return answer(reply, await this.player.jumpTo(ctx, user.userId, params.queue_item_id, body.device_id, key));
  }

  @RequirePermission('player:write')
  @Post('progress')
  @HttpCode(200)
  @ApiOperation({
    summary: "Report a device's playback progress (heartbeat, ~every 5 s)",
    description:
      'The active device moves the state. A report from another device is ignored (applied=false, NOT_ACTIVE_DEVICE) ' +
      "unless it sets take_over; a report not newer (client_timestamp_ms) than the same device's latest is ignored (STALE_REPORT).",
  })
  @ApiResponse({ status: 200, description: 'The playback state after the report', standardSchema: progressViewSchema })
  @ApiErrors(
    [400, PlaybackReason.POSITION_OUT_OF_RANGE],
    401,
    [404, PlaybackReason.QUEUE_ITEM_NOT_FOUND],
    [409, PlaybackReason.NOT_CURRENT_ITEM],
    422,
    503,
    504,
  )
  async progress(
    @CurrentUser() user: Principal,
    @Body({ schema: progressBodySchema }) body: ProgressBody,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProgressView> {
    return answer(reply, await this.player.reportProgress(ctx, user.userId, body, key));
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

  @RequirePermission('player:write')
  @Put()
  @ApiOperation({
    summary: 'Transfer playback to another device',
    description: 'Resumes there at the position extrapolated to now. 409 NO_ACTIVE_DEVICE when nothing was ever played.',
  })
  @ApiResponse({ status: 200, description: 'The playback state on the new device', standardSchema: playerStateViewSchema })
  @ApiErrors(400, 401, [409, PlaybackReason.NO_ACTIVE_DEVICE], 422, 503, 504)
  async transfer(
    @CurrentUser() user: Principal,
    @Body({ schema: transferBodySchema }) body: TransferBody,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PlayerStateView> {
    return answer(reply, await this.player.transfer(ctx, user.userId, body.device_id, body.play, key));
  }

  @Get('devices')
  @ApiOperation({ summary: 'Devices that used the player, most recently seen first' })
  @ApiResponse({ status: 200, description: 'The devices', standardSchema: devicesViewSchema })
  @ApiErrors(401, 503, 504)
  async devices(@CurrentUser() user: Principal, @CallCtx() ctx: CallContext): Promise<DevicesView> {
    return this.player.devices(ctx, user.userId);
  }

  @Get('recently-played')
  @ApiOperation({
    summary: 'Plays (≥ 30 s or to the end), newest first; skips too with include_skips=true',
    description: 'Cursor paging, no cap.',
  })
  @ApiResponse({ status: 200, description: 'One page', standardSchema: recentlyPlayedViewSchema })
  @ApiErrors([400, PlaybackReason.INVALID_CURSOR], 401, 503, 504)
  async recentlyPlayed(
    @CurrentUser() user: Principal,
    @Query({ schema: recentlyPlayedQuerySchema }) query: RecentlyPlayedQuery,
    @CallCtx() ctx: CallContext,
  ): Promise<RecentlyPlayedView> {
    return this.player.recentlyPlayed(ctx, user.userId, query);
  }
}

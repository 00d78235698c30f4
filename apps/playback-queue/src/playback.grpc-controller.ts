import { Controller, Inject } from '@nestjs/common';
import { playbackV1 } from '@overture/contracts';
import { parseRequest } from '@overture/grpc';
import { AllowAnonymous, Callers, RequirePermission } from '@overture/identity';
import { map, type Observable } from 'rxjs';
import { invalidCursor } from './playback.errors.js';
import { PlaybackChangeHub } from './events/playback-change.hub.js';
import type { PlaybackChange } from './events/playback-change.js';
import { PlaybackService } from './playback/playback.service.js';
import {
  addToQueueSchema,
  clearQueueSchema,
  insertNextSchema,
  jumpToItemSchema,
  listRecentlyPlayedSchema,
  moveQueueItemSchema,
  removeQueueItemSchema,
  removeQueueItemsSchema,
  replaceQueueSchema,
  reportProgressSchema,
  setRepeatSchema,
  setShuffleSchema,
  skipToNextSchema,
  skipToPreviousSchema,
  transferPlaybackSchema,
  userRequestSchema,
} from './playback/playback.schemas.js';
import type { Device, PlaybackState, PlayedItem, Queue, QueueItem, RepeatMode } from './playback/playback.js';
import { QueueService } from './playback/queue.service.js';

@Callers('api-gateway')
@Controller()
@playbackV1.PlaybackServiceControllerMethods()
export class PlaybackGrpcController implements playbackV1.PlaybackServiceController {
  constructor(
    @Inject(QueueService) private readonly queues: QueueService,
    @Inject(PlaybackService) private readonly playback: PlaybackService,
    @Inject(PlaybackChangeHub) private readonly hub: PlaybackChangeHub,
  ) {}

  @RequirePermission('player:read')
  async getQueue(request: playbackV1.GetQueueRequest): Promise<playbackV1.GetQueueResponse> {
    const { userId } = parseRequest(userRequestSchema, request);
    return { queue: toQueueProto(await this.queues.get(userId)) };
  }

  @RequirePermission('player:write')
  async addToQueue(request: playbackV1.AddToQueueRequest): Promise<playbackV1.AddToQueueResponse> {
    const { userId, trackIds, ...options } = parseRequest(addToQueueSchema, request);
    return { queue: toQueueProto(await this.queues.add(userId, trackIds, options)) };
  }

  @RequirePermission('player:write')
  async insertNext(request: playbackV1.InsertNextRequest): Promise<playbackV1.InsertNextResponse> {
    const { userId, trackIds, ...options } = parseRequest(insertNextSchema, request);
    return { queue: toQueueProto(await this.queues.insertNext(userId, trackIds, options)) };
  }

  @RequirePermission('player:write')
  async replaceQueue(request: playbackV1.ReplaceQueueRequest): Promise<playbackV1.ReplaceQueueResponse> {
    const { userId, trackIds, ...options } = parseRequest(replaceQueueSchema, request);
    return { queue: toQueueProto(await this.queues.replace(userId, trackIds, options)) };
  }

  @RequirePermission('player:write')
  async removeQueueItem(request: playbackV1.RemoveQueueItemRequest): Promise<playbackV1.RemoveQueueItemResponse> {
    const { userId, queueItemId, ...options } = parseRequest(removeQueueItemSchema, request);
    return { queue: toQueueProto(await this.queues.remove(userId, [queueItemId], options)) };
  }

  @RequirePermission('player:write')
  async removeQueueItems(request: playbackV1.RemoveQueueItemsRequest): Promise<playbackV1.RemoveQueueItemsResponse> {
    const { userId, queueItemIds, ...options } = parseRequest(removeQueueItemsSchema, request);
    return { queue: toQueueProto(await this.queues.remove(userId, queueItemIds, options)) };
  }

  @RequirePermission('player:write')
  async moveQueueItem(request: playbackV1.MoveQueueItemRequest): Promise<playbackV1.MoveQueueItemResponse> {
    const { userId, queueItemId, beforeQueueItemId, ...options } = parseRequest(moveQueueItemSchema, request);
    return { queue: toQueueProto(await this.queues.move(userId, queueItemId, beforeQueueItemId, options)) };
  }

  @RequirePermission('player:write')
  async clearQueue(request: playbackV1.ClearQueueRequest): Promise<playbackV1.ClearQueueResponse> {
    const { userId, upcomingOnly, ...options } = parseRequest(clearQueueSchema, request);
    return { queue: toQueueProto(await this.queues.clear(userId, upcomingOnly, options)) };
  }

  @RequirePermission('player:write')
  async setShuffle(request: playbackV1.SetShuffleRequest): Promise<playbackV1.SetShuffleResponse> {
    const { userId, shuffle, ...options } = parseRequest(setShuffleSchema, request);
    return { queue: toQueueProto(await this.queues.setShuffle(userId, shuffle, options)) };
  }

  @RequirePermission('player:write')
  async setRepeat(request: playbackV1.SetRepeatRequest): Promise<playbackV1.SetRepeatResponse> {
    const { userId, repeat, ...options } = parseRequest(setRepeatSchema, request);
    return { queue: toQueueProto(await this.queues.setRepeat(userId, repeat, options)) };
  }

  @RequirePermission('player:write')
  async skipToNext(request: playbackV1.SkipToNextRequest): Promise<playbackV1.SkipToNextResponse> {
    const { userId, deviceId, trackEnded } = parseRequest(skipToNextSchema, request);
    return { state: toStateProto(await this.playback.skipToNext(userId, deviceId, trackEnded)) };
  }

  @RequirePermission('player:write')
  async skipToPrevious(request: playbackV1.SkipToPreviousRequest): Promise<playbackV1.SkipToPreviousResponse> {
    const { userId, deviceId } = parseRequest(skipToPreviousSchema, request);
    return { state: toStateProto(await this.playback.skipToPrevious(userId, deviceId)) };
  }

  @RequirePermission('player:write')
  async jumpToItem(request: playbackV1.JumpToItemRequest): Promise<playbackV1.JumpToItemResponse> {
    const { userId, deviceId, queueItemId } = parseRequest(jumpToItemSchema, request);
    return { state: toStateProto(await this.playback.jumpTo(userId, deviceId, queueItemId)) };
  }

  @RequirePermission('player:write')
  async reportProgress(request: playbackV1.ReportProgressRequest): Promise<playbackV1.ReportProgressResponse> {
    const { userId, queueItemId, clientTimestampMs, ...report } = parseRequest(reportProgressSchema, request);
    const outcome = await this.playback.reportProgress(userId, queueItemId, { ...report, clientTimestamp: clientTimestampMs });
    return { state: toStateProto(outcome.state), applied: outcome.ignored === undefined, ignoredReason: outcome.ignored ?? '' };
  }

  @RequirePermission('player:write')
  async transferPlayback(request: playbackV1.TransferPlaybackRequest): Promise<playbackV1.TransferPlaybackResponse> {
    const { userId, deviceId, play } = parseRequest(transferPlaybackSchema, request);
    return { state: toStateProto(await this.playback.transfer(userId, deviceId, play)) };
  }

  @RequirePermission('player:read')
  async getPlaybackState(request: playbackV1.GetPlaybackStateRequest): Promise<playbackV1.GetPlaybackStateResponse> {
    const { userId } = parseRequest(userRequestSchema, request);
    const state = await this.playback.getState(userId);
    return { state: state && toStateProto(state) };
  }

  @RequirePermission('player:read')
  async listDevices(request: playbackV1.ListDevicesRequest): Promise<playbackV1.ListDevicesResponse> {
    const { userId } = parseRequest(userRequestSchema, request);
    const { devices, activeDeviceId } = await this.playback.listDevices(userId);
    return { devices: devices.map((device) => toDeviceProto(device, activeDeviceId)) };
  }

  @RequirePermission('player:read')
  async listRecentlyPlayed(request: playbackV1.ListRecentlyPlayedRequest): Promise<playbackV1.ListRecentlyPlayedResponse> {
    const { userId, limit, cursor, includeSkips } = parseRequest(listRecentlyPlayedSchema, request);
    const page = await this.playback.recentlyPlayed(userId, limit, cursor ? decodeCursor(cursor) : undefined, includeSkips);
    return { items: page.items.map(toPlayedProto), nextCursor: page.nextAfterId ? encodeCursor(page.nextAfterId) : '' };
  }

  // Every user's changes, for the gateways' real-time fan-out: no user token, so only the
  // gateway's certificate is accepted (the class's @Callers).
  @AllowAnonymous()
  watchEvents(): Observable<playbackV1.WatchEventsResponse> {
    return this.hub.watch().pipe(map((change) => ({ event: toEventProto(change) })));
  }
}

const REPEAT_PROTO: Record<RepeatMode, playbackV1.RepeatMode> = {
  off: playbackV1.RepeatMode.REPEAT_MODE_OFF,
  track: playbackV1.RepeatMode.REPEAT_MODE_TRACK,
  context: playbackV1.RepeatMode.REPEAT_MODE_CONTEXT,
};

// Cursors are opaque to clients: the last entry's id, versioned so the format can change.
const CURSOR_PREFIX = 'h1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function encodeCursor(afterId: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${afterId}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.slice(CURSOR_PREFIX.length);
  if (!text.startsWith(CURSOR_PREFIX) || !UUID.test(id)) {
    throw invalidCursor();
  }
  return id;
}

function toItemProto(item: QueueItem): playbackV1.QueueItem {
  return { queueItemId: item.id, trackId: item.trackId, addedAt: item.addedAt.toISOString() };
}

function toQueueProto(queue: Queue): playbackV1.Queue {
  return {
    items: queue.items.map(toItemProto),
    currentQueueItemId: queue.currentItemId ?? '',
    version: queue.version,
    shuffle: queue.shuffle,
    repeat: REPEAT_PROTO[queue.repeat],
  };
}

function toStateProto(state: PlaybackState): playbackV1.PlaybackState {
  return {
    deviceId: state.deviceId,
    currentItem: state.currentItem && toItemProto(state.currentItem),
    positionMs: state.positionMs,
    isPlaying: state.isPlaying,
    updatedAt: state.updatedAt.toISOString(),
    version: state.version,
    playbackRate: state.playbackRate,
    serverTime: new Date().toISOString(),
  };
}

function toDeviceProto(device: Device, activeDeviceId: string | undefined): playbackV1.Device {
  return { deviceId: device.deviceId, lastSeenAt: device.lastSeenAt.toISOString(), isActive: device.deviceId === activeDeviceId };
}

function toPlayedProto(item: PlayedItem): playbackV1.PlayedItem {
  return {
    trackId: item.trackId,
    queueItemId: item.queueItemId,
    kind: item.kind,
    playedMs: item.playedMs,
    playedAt: item.occurredAt.toISOString(),
  };
}

function toEventProto(change: PlaybackChange): playbackV1.PlaybackEvent {
  const { PLAYBACK_EVENT_KIND_QUEUE_CHANGED, PLAYBACK_EVENT_KIND_STATE_CHANGED, PLAYBACK_EVENT_KIND_RESYNC } = playbackV1.PlaybackEventKind;
  switch (change.kind) {
    case 'resync':
      return { kind: PLAYBACK_EVENT_KIND_RESYNC, userId: '', version: 0, change: '', deviceId: '' };
    case 'queue':
      return {
        kind: PLAYBACK_EVENT_KIND_QUEUE_CHANGED,
        userId: change.userId,
        version: change.version,
        change: change.change,
        deviceId: change.deviceId,
      };
    case 'state':
      return {
        kind: PLAYBACK_EVENT_KIND_STATE_CHANGED,
        userId: change.userId,
        version: change.version,
        change: '',
        deviceId: change.deviceId,
        state: toStateProto(change.state),
      };
  }
}

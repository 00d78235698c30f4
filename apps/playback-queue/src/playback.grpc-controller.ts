import { Controller, Inject } from '@nestjs/common';
import { playbackV1 } from '@overture/contracts';
import { parseRequest } from '@overture/grpc';
import { IdempotentCalls, type KeyedWrite } from '@overture/idempotency';
import { AllowAnonymous, Callers, RequirePermission } from '@overture/identity';
import { map, type Observable } from 'rxjs';
import { invalidCursor } from './playback.errors.js';
import { PlaybackChangeHub } from './events/playback-change.hub.js';
import type { PlaybackChange } from './events/playback-change.js';
import { PlaybackService, type ProgressOutcome } from './playback/playback.service.js';
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
    @Inject(IdempotentCalls) private readonly calls: IdempotentCalls,
  ) {}

  @RequirePermission('player:read')
  async getQueue(request: playbackV1.GetQueueRequest): Promise<playbackV1.GetQueueResponse> {
    const { userId } = parseRequest(userRequestSchema, request);
    return { queue: toQueueProto(await this.queues.get(userId)) };
  }

  @RequirePermission('player:write')
  async addToQueue(request: playbackV1.AddToQueueRequest): Promise<playbackV1.AddToQueueResponse> {
    const parsed = parseRequest(addToQueueSchema, request);
    const { userId, trackIds, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'AddToQueue', 'AddToQueue', toQueueResponse, (keyed) =>
      this.queues.add(userId, trackIds, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async insertNext(request: playbackV1.InsertNextRequest): Promise<playbackV1.InsertNextResponse> {
    const parsed = parseRequest(insertNextSchema, request);
    const { userId, trackIds, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'AddToQueue', 'InsertNext', toQueueResponse, (keyed) =>
      this.queues.insertNext(userId, trackIds, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async replaceQueue(request: playbackV1.ReplaceQueueRequest): Promise<playbackV1.ReplaceQueueResponse> {
    const parsed = parseRequest(replaceQueueSchema, request);
    const { userId, trackIds, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'ReplaceQueue', 'ReplaceQueue', toQueueResponse, (keyed) =>
      this.queues.replace(userId, trackIds, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async removeQueueItem(request: playbackV1.RemoveQueueItemRequest): Promise<playbackV1.RemoveQueueItemResponse> {
    const parsed = parseRequest(removeQueueItemSchema, request);
    const { userId, queueItemId, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'RemoveQueueItem', 'RemoveQueueItem', toQueueResponse, (keyed) =>
      this.queues.remove(userId, [queueItemId], { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async removeQueueItems(request: playbackV1.RemoveQueueItemsRequest): Promise<playbackV1.RemoveQueueItemsResponse> {
    const parsed = parseRequest(removeQueueItemsSchema, request);
    const { userId, queueItemIds, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'RemoveQueueItems', 'RemoveQueueItems', toQueueResponse, (keyed) =>
      this.queues.remove(userId, queueItemIds, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async moveQueueItem(request: playbackV1.MoveQueueItemRequest): Promise<playbackV1.MoveQueueItemResponse> {
    const parsed = parseRequest(moveQueueItemSchema, request);
    const { userId, queueItemId, beforeQueueItemId, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'MoveQueueItem', 'MoveQueueItem', toQueueResponse, (keyed) =>
      this.queues.move(userId, queueItemId, beforeQueueItemId, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async clearQueue(request: playbackV1.ClearQueueRequest): Promise<playbackV1.ClearQueueResponse> {
    const parsed = parseRequest(clearQueueSchema, request);
    const { userId, upcomingOnly, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'ClearQueue', 'ClearQueue', toQueueResponse, (keyed) =>
      this.queues.clear(userId, upcomingOnly, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async setShuffle(request: playbackV1.SetShuffleRequest): Promise<playbackV1.SetShuffleResponse> {
    const parsed = parseRequest(setShuffleSchema, request);
    const { userId, shuffle, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'SetShuffle', 'SetShuffle', toQueueResponse, (keyed) =>
      this.queues.setShuffle(userId, shuffle, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async setRepeat(request: playbackV1.SetRepeatRequest): Promise<playbackV1.SetRepeatResponse> {
    const parsed = parseRequest(setRepeatSchema, request);
    const { userId, repeat, expectedVersion, deviceId } = parsed;
    return this.run(parsed, 'SetRepeat', 'SetRepeat', toQueueResponse, (keyed) =>
      this.queues.setRepeat(userId, repeat, { expectedVersion, deviceId, keyed }),
    );
  }

  @RequirePermission('player:write')
  async skipToNext(request: playbackV1.SkipToNextRequest): Promise<playbackV1.SkipToNextResponse> {
    const parsed = parseRequest(skipToNextSchema, request);
    const { userId, deviceId, trackEnded } = parsed;
    return this.run(parsed, 'SkipToNext', 'SkipToNext', toStateResponse, (keyed) =>
      this.playback.skipToNext(userId, deviceId, trackEnded, keyed),
    );
  }

  @RequirePermission('player:write')
  async skipToPrevious(request: playbackV1.SkipToPreviousRequest): Promise<playbackV1.SkipToPreviousResponse> {
    const parsed = parseRequest(skipToPreviousSchema, request);
    const { userId, deviceId } = parsed;
    return this.run(parsed, 'SkipToPrevious', 'SkipToPrevious', toStateResponse, (keyed) =>
      this.playback.skipToPrevious(userId, deviceId, keyed),
    );
  }

  @RequirePermission('player:write')
  async jumpToItem(request: playbackV1.JumpToItemRequest): Promise<playbackV1.JumpToItemResponse> {
    const parsed = parseRequest(jumpToItemSchema, request);
    const { userId, deviceId, queueItemId } = parsed;
    return this.run(parsed, 'JumpToItem', 'JumpToItem', toStateResponse, (keyed) =>
      this.playback.jumpTo(userId, deviceId, queueItemId, keyed),
    );
  }

  @RequirePermission('player:write')
  async reportProgress(request: playbackV1.ReportProgressRequest): Promise<playbackV1.ReportProgressResponse> {
    const parsed = parseRequest(reportProgressSchema, request);
    const { userId, queueItemId, clientTimestampMs, idempotencyKey: _key, ...report } = parsed;
    return this.run(parsed, 'ReportProgress', 'ReportProgress', toProgressResponse, (keyed) =>
      this.playback.reportProgress(userId, queueItemId, { ...report, clientTimestamp: clientTimestampMs }, keyed),
    );
  }

  @RequirePermission('player:write')
  async transferPlayback(request: playbackV1.TransferPlaybackRequest): Promise<playbackV1.TransferPlaybackResponse> {
    const parsed = parseRequest(transferPlaybackSchema, request);
    const { userId, deviceId, play } = parsed;
    return this.run(parsed, 'TransferPlayback', 'TransferPlayback', toStateResponse, (keyed) =>
      this.playback.transfer(userId, deviceId, play, keyed),
    );
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

  /**
   * Runs one change with the caller's idempotency key, if any: keys are the user's own, one set per
   * `operation` (AddToQueue and InsertNext share one, being one client-facing route), and the
   * fingerprint covers the method and every field but the key.
   */
  private run<T, R extends object>(
    parsed: { userId: string; idempotencyKey?: string | undefined },
    operation: string,
    method: string,
    render: (result: T) => R,
    work: (keyed: KeyedWrite<T> | undefined) => Promise<T>,
  ): Promise<R & { replayed: boolean }> {
    const { idempotencyKey, ...request } = parsed;
    return this.calls.run({ key: idempotencyKey, scope: parsed.userId, operation, request: { method, ...request } }, render, work);
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

const toQueueResponse = (queue: Queue): { queue: playbackV1.Queue } => ({ queue: toQueueProto(queue) });
const toStateResponse = (state: PlaybackState): { state: playbackV1.PlaybackState } => ({ state: toStateProto(state) });
const toProgressResponse = (outcome: ProgressOutcome): Omit<playbackV1.ReportProgressResponse, 'replayed'> => ({
  state: toStateProto(outcome.state),
  applied: outcome.ignored === undefined,
  ignoredReason: outcome.ignored ?? '',
});

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
  const { PLAYBACK_EVENT_KIND_QUEUE_CHANGED, PLAYBACK_EVENT_KIND_STATE_CHANGED, PLAYBACK_EVENT_KIND_RESYNC, PLAYBACK_EVENT_KIND_DRAINING } =
    playbackV1.PlaybackEventKind;
  switch (change.kind) {
    case 'resync':
      return { kind: PLAYBACK_EVENT_KIND_RESYNC, userId: '', version: 0, change: '', deviceId: '', changedAtMs: 0 };
    case 'draining':
      return { kind: PLAYBACK_EVENT_KIND_DRAINING, userId: '', version: 0, change: '', deviceId: '', changedAtMs: 0 };
    case 'queue':
      return {
        kind: PLAYBACK_EVENT_KIND_QUEUE_CHANGED,
        userId: change.userId,
        version: change.version,
        change: change.change,
        deviceId: change.deviceId,
        changedAtMs: change.changedAt ?? 0,
      };
    case 'state':
      return {
        kind: PLAYBACK_EVENT_KIND_STATE_CHANGED,
        userId: change.userId,
        version: change.version,
        change: '',
        deviceId: change.deviceId,
        state: toStateProto(change.state),
        changedAtMs: change.changedAt ?? 0,
      };
  }
}

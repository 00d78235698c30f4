import { Controller, Inject } from '@nestjs/common';
import { playbackV1 } from '@overture/contracts';
import { parseRequest } from '@overture/grpc';
import { PlaybackService } from './playback.service.js';
import {
  addToQueueSchema,
  removeQueueItemSchema,
  reportProgressSchema,
  skipToNextSchema,
  userRequestSchema,
} from './playback.schemas.js';
import type { PlaybackState, Queue, QueueItem } from './playback.js';
import { QueueService } from './queue.service.js';

@Controller()
@playbackV1.PlaybackServiceControllerMethods()
export class PlaybackGrpcController implements playbackV1.PlaybackServiceController {
  constructor(
    @Inject(QueueService) private readonly queues: QueueService,
    @Inject(PlaybackService) private readonly playback: PlaybackService,
  ) {}

  async getQueue(request: playbackV1.GetQueueRequest): Promise<playbackV1.GetQueueResponse> {
    const { userId } = parseRequest(userRequestSchema, request);
    return { queue: toQueueProto(await this.queues.get(userId)) };
  }

  async addToQueue(request: playbackV1.AddToQueueRequest): Promise<playbackV1.AddToQueueResponse> {
    const { userId, trackIds, expectedVersion } = parseRequest(addToQueueSchema, request);
    return { queue: toQueueProto(await this.queues.add(userId, trackIds, expectedVersion)) };
  }

  async removeQueueItem(request: playbackV1.RemoveQueueItemRequest): Promise<playbackV1.RemoveQueueItemResponse> {
    const { userId, queueItemId, expectedVersion } = parseRequest(removeQueueItemSchema, request);
    return { queue: toQueueProto(await this.queues.remove(userId, queueItemId, expectedVersion)) };
  }

  async skipToNext(request: playbackV1.SkipToNextRequest): Promise<playbackV1.SkipToNextResponse> {
    const { userId, deviceId } = parseRequest(skipToNextSchema, request);
    return { state: toStateProto(await this.playback.skipToNext(userId, deviceId)) };
  }

  async reportProgress(request: playbackV1.ReportProgressRequest): Promise<playbackV1.ReportProgressResponse> {
    const { userId, queueItemId, ...report } = parseRequest(reportProgressSchema, request);
    return { state: toStateProto(await this.playback.reportProgress(userId, queueItemId, report)) };
  }

  async getPlaybackState(request: playbackV1.GetPlaybackStateRequest): Promise<playbackV1.GetPlaybackStateResponse> {
    const { userId } = parseRequest(userRequestSchema, request);
    const state = await this.playback.getState(userId);
    return { state: state && toStateProto(state) };
  }
}

function toItemProto(item: QueueItem): playbackV1.QueueItem {
  return { queueItemId: item.id, trackId: item.trackId, addedAt: item.addedAt.toISOString() };
}

function toQueueProto(queue: Queue): playbackV1.Queue {
  return { items: queue.items.map(toItemProto), currentQueueItemId: queue.currentItemId ?? '', version: queue.version };
}

function toStateProto(state: PlaybackState): playbackV1.PlaybackState {
  return {
    deviceId: state.deviceId,
    currentItem: state.currentItem && toItemProto(state.currentItem),
    positionMs: state.positionMs,
    isPlaying: state.isPlaying,
    updatedAt: state.updatedAt.toISOString(),
    version: state.version,
  };
}

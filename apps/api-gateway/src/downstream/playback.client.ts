import { Inject, Injectable } from '@nestjs/common';
import type { playbackV1 } from '@overture/contracts';
import type { CallContext } from './call-context.js';
import { PLAYBACK_DOWNSTREAM } from './downstream.tokens.js';
import type { Downstream } from './downstream.js';
import { required } from './required.js';

/** The queue after a change, and whether the answer is the stored one of an earlier call with the same idempotency key. */
export interface QueueChange {
  readonly queue: playbackV1.Queue;
  readonly replayed: boolean;
}

/** The playback state after a change, and whether the answer is a replay. */
export interface StateChange {
  readonly state: playbackV1.PlaybackState;
  readonly replayed: boolean;
}

/** The playback-queue service, as the gateway uses it. `userId` always comes from the verified token. */
@Injectable()
export class PlaybackClient {
  constructor(@Inject(PLAYBACK_DOWNSTREAM) private readonly playback: Downstream<playbackV1.PlaybackServiceClient>) {}

  async getQueue(ctx: CallContext, userId: string): Promise<playbackV1.Queue> {
    const response = await this.playback.read(ctx, (c, md, opts) => c.getQueue({ userId }, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async addToQueue(ctx: CallContext, request: playbackV1.AddToQueueRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.addToQueue(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async removeQueueItem(ctx: CallContext, request: playbackV1.RemoveQueueItemRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.removeQueueItem(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async skipToNext(ctx: CallContext, request: playbackV1.SkipToNextRequest): Promise<StateChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.skipToNext(request, md, opts));
    return { state: required(response.state, 'playback', 'the playback state'), replayed: response.replayed };
  }

  /** The user's playback state, or undefined when they have never played anything. */
  async getPlaybackState(ctx: CallContext, userId: string): Promise<playbackV1.PlaybackState | undefined> {
    const response = await this.playback.read(ctx, (c, md, opts) => c.getPlaybackState({ userId }, md, opts));
    return response.state;
  }
  async insertNext(ctx: CallContext, request: playbackV1.InsertNextRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.insertNext(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async replaceQueue(ctx: CallContext, request: playbackV1.ReplaceQueueRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.replaceQueue(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async removeQueueItems(ctx: CallContext, request: playbackV1.RemoveQueueItemsRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.removeQueueItems(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async moveQueueItem(ctx: CallContext, request: playbackV1.MoveQueueItemRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.moveQueueItem(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async clearQueue(ctx: CallContext, request: playbackV1.ClearQueueRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.clearQueue(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async setShuffle(ctx: CallContext, request: playbackV1.SetShuffleRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.setShuffle(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async setRepeat(ctx: CallContext, request: playbackV1.SetRepeatRequest): Promise<QueueChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.setRepeat(request, md, opts));
    return { queue: required(response.queue, 'playback', 'the queue'), replayed: response.replayed };
  }

  async skipToPrevious(ctx: CallContext, request: playbackV1.SkipToPreviousRequest): Promise<StateChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.skipToPrevious(request, md, opts));
    return { state: required(response.state, 'playback', 'the playback state'), replayed: response.replayed };
  }

  async jumpToItem(ctx: CallContext, request: playbackV1.JumpToItemRequest): Promise<StateChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.jumpToItem(request, md, opts));
    return { state: required(response.state, 'playback', 'the playback state'), replayed: response.replayed };
  }

  async transferPlayback(ctx: CallContext, request: playbackV1.TransferPlaybackRequest): Promise<StateChange> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.transferPlayback(request, md, opts));
    return { state: required(response.state, 'playback', 'the playback state'), replayed: response.replayed };
  }

  /** A heartbeat; says whether it was applied (or why not), with the state either way. */
  async reportProgress(
    ctx: CallContext,
    request: playbackV1.ReportProgressRequest,
  ): Promise<StateChange & { applied: boolean; ignoredReason: string }> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.reportProgress(request, md, opts));
    return {
      state: required(response.state, 'playback', 'the playback state'),
      applied: response.applied,
      ignoredReason: response.ignoredReason,
      replayed: response.replayed,
    };
  }

  async listDevices(ctx: CallContext, userId: string): Promise<playbackV1.Device[]> {
    const response = await this.playback.read(ctx, (c, md, opts) => c.listDevices({ userId }, md, opts));
    return response.devices;
  }

  async listRecentlyPlayed(
    ctx: CallContext,
    request: playbackV1.ListRecentlyPlayedRequest,
  ): Promise<playbackV1.ListRecentlyPlayedResponse> {
    return this.playback.read(ctx, (c, md, opts) => c.listRecentlyPlayed(request, md, opts));
  }
}

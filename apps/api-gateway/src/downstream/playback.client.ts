import { Inject, Injectable } from '@nestjs/common';
import type { playbackV1 } from '@overture/contracts';
import type { CallContext } from './call-context.js';
import { PLAYBACK_DOWNSTREAM } from './downstream.tokens.js';
import type { Downstream } from './downstream.js';
import { required } from './required.js';

/** The playback-queue service, as the gateway uses it. `userId` always comes from the verified token. */
@Injectable()
export class PlaybackClient {
  constructor(@Inject(PLAYBACK_DOWNSTREAM) private readonly playback: Downstream<playbackV1.PlaybackServiceClient>) {}

  async getQueue(ctx: CallContext, userId: string): Promise<playbackV1.Queue> {
    const response = await this.playback.read(ctx, (c, md, opts) => c.getQueue({ userId }, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async addToQueue(ctx: CallContext, request: playbackV1.AddToQueueRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.addToQueue(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async removeQueueItem(ctx: CallContext, request: playbackV1.RemoveQueueItemRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.removeQueueItem(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async skipToNext(ctx: CallContext, request: playbackV1.SkipToNextRequest): Promise<playbackV1.PlaybackState> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.skipToNext(request, md, opts));
    return required(response.state, 'playback', 'the playback state');
  }

  /** The user's playback state, or undefined when they have never played anything. */
  async getPlaybackState(ctx: CallContext, userId: string): Promise<playbackV1.PlaybackState | undefined> {
    const response = await this.playback.read(ctx, (c, md, opts) => c.getPlaybackState({ userId }, md, opts));
    return response.state;
  }
  async insertNext(ctx: CallContext, request: playbackV1.InsertNextRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.insertNext(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async replaceQueue(ctx: CallContext, request: playbackV1.ReplaceQueueRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.replaceQueue(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async removeQueueItems(ctx: CallContext, request: playbackV1.RemoveQueueItemsRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.removeQueueItems(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async moveQueueItem(ctx: CallContext, request: playbackV1.MoveQueueItemRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.moveQueueItem(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async clearQueue(ctx: CallContext, request: playbackV1.ClearQueueRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.clearQueue(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async setShuffle(ctx: CallContext, request: playbackV1.SetShuffleRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.setShuffle(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async setRepeat(ctx: CallContext, request: playbackV1.SetRepeatRequest): Promise<playbackV1.Queue> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.setRepeat(request, md, opts));
    return required(response.queue, 'playback', 'the queue');
  }

  async skipToPrevious(ctx: CallContext, request: playbackV1.SkipToPreviousRequest): Promise<playbackV1.PlaybackState> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.skipToPrevious(request, md, opts));
    return required(response.state, 'playback', 'the playback state');
  }

  async jumpToItem(ctx: CallContext, request: playbackV1.JumpToItemRequest): Promise<playbackV1.PlaybackState> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.jumpToItem(request, md, opts));
    return required(response.state, 'playback', 'the playback state');
  }

  async transferPlayback(ctx: CallContext, request: playbackV1.TransferPlaybackRequest): Promise<playbackV1.PlaybackState> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.transferPlayback(request, md, opts));
    return required(response.state, 'playback', 'the playback state');
  }

  /** A heartbeat; says whether it was applied (or why not), with the state either way. */
  async reportProgress(
    ctx: CallContext,
    request: playbackV1.ReportProgressRequest,
  ): Promise<{ state: playbackV1.PlaybackState; applied: boolean; ignoredReason: string }> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.reportProgress(request, md, opts));
    return {
      state: required(response.state, 'playback', 'the playback state'),
      applied: response.applied,
      ignoredReason: response.ignoredReason,
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

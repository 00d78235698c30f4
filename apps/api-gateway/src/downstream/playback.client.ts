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
    const response = await this.playback.call(ctx, (c, md, opts) => c.getQueue({ userId }, md, opts));
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

  async reportProgress(ctx: CallContext, request: playbackV1.ReportProgressRequest): Promise<playbackV1.PlaybackState> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.reportProgress(request, md, opts));
    return required(response.state, 'playback', 'the playback state');
  }

  /** The user's playback state, or undefined when they have never played anything. */
  async getPlaybackState(ctx: CallContext, userId: string): Promise<playbackV1.PlaybackState | undefined> {
    const response = await this.playback.call(ctx, (c, md, opts) => c.getPlaybackState({ userId }, md, opts));
    return response.state;
  }
}

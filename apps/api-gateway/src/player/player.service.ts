import { Inject, Injectable } from '@nestjs/common';
import type { playbackV1 } from '@overture/contracts';
import { toTrackView, type TrackView } from '../catalogue/track.view.js';
import type { CallContext } from '../downstream/call-context.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import { PlaybackClient } from '../downstream/playback.client.js';
import type { PlayerStateView, ProgressBody, QueueView } from './player.schemas.js';

/**
 * The player as clients see it: the playback service's queue and state, with each item's track
 * resolved from the catalogue. The user is always the token's subject, passed in by the controller.
 */
@Injectable()
export class PlayerService {
  constructor(
    @Inject(PlaybackClient) private readonly playback: PlaybackClient,
    @Inject(MetadataClient) private readonly metadata: MetadataClient,
  ) {}

  async queue(ctx: CallContext, userId: string): Promise<QueueView> {
    return this.queueView(ctx, await this.playback.getQueue(ctx, userId));
  }

  async addToQueue(ctx: CallContext, userId: string, trackIds: string[], expectedVersion: number | undefined): Promise<QueueView> {
    return this.queueView(ctx, await this.playback.addToQueue(ctx, { userId, trackIds, expectedVersion }));
  }

  async removeItem(ctx: CallContext, userId: string, queueItemId: string, expectedVersion: number | undefined): Promise<QueueView> {
    return this.queueView(ctx, await this.playback.removeQueueItem(ctx, { userId, queueItemId, expectedVersion }));
  }

  async skipToNext(ctx: CallContext, userId: string, deviceId: string): Promise<PlayerStateView> {
    return this.stateView(ctx, await this.playback.skipToNext(ctx, { userId, deviceId }));
  }

  async reportProgress(ctx: CallContext, userId: string, progress: ProgressBody): Promise<PlayerStateView> {
    const state = await this.playback.reportProgress(ctx, {
      userId,
      deviceId: progress.device_id,
      queueItemId: progress.queue_item_id,
      positionMs: progress.position_ms,
      isPlaying: progress.is_playing,
    });
    return this.stateView(ctx, state);
  }

  /** The current playback state, or undefined when the user has never played anything. */
  async state(ctx: CallContext, userId: string): Promise<PlayerStateView | undefined> {
    const state = await this.playback.getPlaybackState(ctx, userId);
    return state && this.stateView(ctx, state);
  }

  private async queueView(ctx: CallContext, queue: playbackV1.Queue): Promise<QueueView> {
    const tracks = await this.tracksById(ctx, queue.items.map((item) => item.trackId));
    return {
      items: queue.items.map((item) => ({
        queue_item_id: item.queueItemId,
        track: tracks.get(item.trackId) ?? null,
        added_at: item.addedAt,
      })),
      current_queue_item_id: queue.currentQueueItemId || null,
      version: queue.version,
    };
  }

  private async stateView(ctx: CallContext, state: playbackV1.PlaybackState): Promise<PlayerStateView> {
    const item = state.currentItem;
    const tracks = await this.tracksById(ctx, item ? [item.trackId] : []);
    return {
      device_id: state.deviceId,
      item: item ? { queue_item_id: item.queueItemId, track: tracks.get(item.trackId) ?? null } : null,
      position_ms: state.positionMs,
      is_playing: state.isPlaying,
      updated_at: state.updatedAt,
      version: state.version,
    };
  }

  private async tracksById(ctx: CallContext, trackIds: readonly string[]): Promise<Map<string, TrackView>> {
    const { tracks } = await this.metadata.batchGetTracks(ctx, [...new Set(trackIds)]);
    return new Map(tracks.map((track) => [track.trackId, toTrackView(track)]));
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { PlaybackReason, type playbackV1 } from '@overture/contracts';
import type {
  DevicesView,
  PlayerStateView,
  ProgressBody,
  ProgressView,
  QueueView,
  RecentlyPlayedQuery,
  RecentlyPlayedView,
  RepeatModeName,
} from '@overture/gateway-contract';
import { toTrackView } from '../catalogue/catalogue.mapper.js';
import type { CallContext } from '../downstream/call-context.js';
import { DownstreamError } from '../downstream/downstream-error.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import { PlaybackClient } from '../downstream/playback.client.js';
import {
  toDevicesView,
  toProgressRequest,
  toProgressView,
  toQueueView,
  toRecentlyPlayedView,
  toRepeatMode,
  toStateView,
  trackIdsOf,
  type TracksById,
} from './player.mapper.js';
import { QueueConflictError } from './queue-conflict.error.js';

/** Who makes a queue change and the version they expect it to apply to. */
export interface QueueEdit {
  readonly expectedVersion: number | undefined;
  readonly deviceId: string | undefined;
}

/**
 * The player as clients see it: the playback service's queue, state, devices and history, with
 * tracks resolved from the catalogue. The user is always the token's subject, passed in by the controller.
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

  /** The queue version alone, without resolving tracks (for conditional reads). */
  async queueVersion(ctx: CallContext, userId: string): Promise<number> {
    return (await this.playback.getQueue(ctx, userId)).version;
  }

  async addToQueue(ctx: CallContext, userId: string, trackIds: string[], position: 'end' | 'next', edit: QueueEdit): Promise<QueueView> {
    const request = { userId, trackIds, ...editFields(edit) };
    return this.editQueue(ctx, userId, () =>
      position === 'next' ? this.playback.insertNext(ctx, request) : this.playback.addToQueue(ctx, request),
    );
  }

  async replaceQueue(ctx: CallContext, userId: string, trackIds: string[], edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.replaceQueue(ctx, { userId, trackIds, ...editFields(edit) }));
  }

  async removeItem(ctx: CallContext, userId: string, queueItemId: string, edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.removeQueueItem(ctx, { userId, queueItemId, ...editFields(edit) }));
  }

  async removeItems(ctx: CallContext, userId: string, queueItemIds: string[], edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.removeQueueItems(ctx, { userId, queueItemIds, ...editFields(edit) }));
  }

  async moveItem(
    ctx: CallContext,
    userId: string,
    queueItemId: string,
    beforeQueueItemId: string | null,
    edit: QueueEdit,
  ): Promise<QueueView> {
    return this.editQueue(ctx, userId, () =>
      this.playback.moveQueueItem(ctx, { userId, queueItemId, beforeQueueItemId: beforeQueueItemId ?? '', ...editFields(edit) }),
    );
  }

  async clearQueue(ctx: CallContext, userId: string, scope: 'upcoming' | 'all', edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () =>
      this.playback.clearQueue(ctx, { userId, upcomingOnly: scope === 'upcoming', ...editFields(edit) }),
    );
  }

  async setShuffle(ctx: CallContext, userId: string, shuffle: boolean, edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.setShuffle(ctx, { userId, shuffle, ...editFields(edit) }));
  }

  async setRepeat(ctx: CallContext, userId: string, repeat: RepeatModeName, edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.setRepeat(ctx, { userId, repeat: toRepeatMode(repeat), ...editFields(edit) }));
  }

  async skipToNext(ctx: CallContext, userId: string, deviceId: string, trackEnded: boolean): Promise<PlayerStateView> {
    return this.stateView(ctx, await this.playback.skipToNext(ctx, { userId, deviceId, trackEnded }));
  }

  async skipToPrevious(ctx: CallContext, userId: string, deviceId: string): Promise<PlayerStateView> {
    return this.stateView(ctx, await this.playback.skipToPrevious(ctx, { userId, deviceId }));
  }

  async jumpTo(ctx: CallContext, userId: string, queueItemId: string, deviceId: string): Promise<PlayerStateView> {
    return this.stateView(ctx, await this.playback.jumpToItem(ctx, { userId, deviceId, queueItemId }));
  }

  async transfer(ctx: CallContext, userId: string, deviceId: string, play: boolean | undefined): Promise<PlayerStateView> {
    return this.stateView(ctx, await this.playback.transferPlayback(ctx, { userId, deviceId, play }));
  }

  async reportProgress(ctx: CallContext, userId: string, progress: ProgressBody): Promise<ProgressView> {
    const outcome = await this.playback.reportProgress(ctx, toProgressRequest(userId, progress));
    return toProgressView(outcome, await this.stateView(ctx, outcome.state));
  }

  /** The current playback state, or undefined when the user has never played anything. */
  async state(ctx: CallContext, userId: string): Promise<PlayerStateView | undefined> {
    const state = await this.playback.getPlaybackState(ctx, userId);
    return state && this.stateView(ctx, state);
  }

  async devices(ctx: CallContext, userId: string): Promise<DevicesView> {
    return toDevicesView(await this.playback.listDevices(ctx, userId));
  }

  async recentlyPlayed(ctx: CallContext, userId: string, query: RecentlyPlayedQuery): Promise<RecentlyPlayedView> {
    const page = await this.playback.listRecentlyPlayed(ctx, {
      userId,
      limit: query.limit,
      cursor: query.cursor ?? '',
      includeSkips: query.include_skips,
    });
    return toRecentlyPlayedView(
      page,
      await this.tracksById(
        ctx,
        page.items.map((item) => item.trackId),
      ),
    );
  }

  // A stale If-Match is answered with the current queue, so the client can rebase at once.
  private async editQueue(ctx: CallContext, userId: string, change: () => Promise<playbackV1.Queue>): Promise<QueueView> {
    let queue: playbackV1.Queue;
    try {
      queue = await change();
    } catch (error) {
      if (error instanceof DownstreamError && error.reason === PlaybackReason.VERSION_MISMATCH) {
        throw new QueueConflictError(await this.queue(ctx, userId), error.details, { cause: error });
      }
      throw error;
    }
    return this.queueView(ctx, queue);
  }

  private async queueView(ctx: CallContext, queue: playbackV1.Queue): Promise<QueueView> {
    return toQueueView(queue, await this.tracksById(ctx, trackIdsOf(queue)));
  }

  private async stateView(ctx: CallContext, state: playbackV1.PlaybackState): Promise<PlayerStateView> {
    return toStateView(state, await this.tracksById(ctx, trackIdsOf(state)));
  }

  private async tracksById(ctx: CallContext, trackIds: readonly string[]): Promise<TracksById> {
    const { tracks } = await this.metadata.batchGetTracks(ctx, [...new Set(trackIds)]);
    return new Map(tracks.map((track) => [track.trackId, toTrackView(track)]));
  }
}

function editFields(edit: QueueEdit): { expectedVersion: number | undefined; deviceId: string } {
  return { expectedVersion: edit.expectedVersion, deviceId: edit.deviceId ?? '' };
}

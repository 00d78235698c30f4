import { Inject, Injectable } from '@nestjs/common';
import { PlaybackReason, playbackV1 } from '@overture/contracts';
import { toTrackView, type TrackView } from '../catalogue/track.view.js';
import type { CallContext } from '../downstream/call-context.js';
import { DownstreamError } from '../downstream/downstream-error.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import { PlaybackClient } from '../downstream/playback.client.js';
import type {
  DevicesView,
  PlayerStateView,
  ProgressBody,
  ProgressView,
  QueueView,
  RecentlyPlayedQuery,
  RecentlyPlayedView,
  RepeatModeName,
} from './player.schemas.js';
import { QueueConflictError } from './queue-conflict.error.js';

/** Who makes a queue change and the version they expect it to apply to. */
export interface QueueEdit {
  readonly expectedVersion: number | undefined;
  readonly deviceId: string | undefined;
}

const REPEAT_NAMES: Record<playbackV1.RepeatMode, RepeatModeName> = {
  [playbackV1.RepeatMode.REPEAT_MODE_UNSPECIFIED]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_OFF]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_TRACK]: 'track',
  [playbackV1.RepeatMode.REPEAT_MODE_CONTEXT]: 'context',
};
const REPEAT_MODES: Record<RepeatModeName, playbackV1.RepeatMode> = {
  off: playbackV1.RepeatMode.REPEAT_MODE_OFF,
  track: playbackV1.RepeatMode.REPEAT_MODE_TRACK,
  context: playbackV1.RepeatMode.REPEAT_MODE_CONTEXT,
};

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
  async queueVersion(ctx: CallContext, userId: string): Promise<playbackV1.Queue> {
    return this.playback.getQueue(ctx, userId);
  }

  async addToQueue(ctx: CallContext, userId: string, trackIds: string[], position: 'end' | 'next', edit: QueueEdit): Promise<QueueView> {
    const request = { userId, trackIds, ...this.editFields(edit) };
    return this.editQueue(ctx, userId, () =>
      position === 'next' ? this.playback.insertNext(ctx, request) : this.playback.addToQueue(ctx, request),
    );
  }

  async replaceQueue(ctx: CallContext, userId: string, trackIds: string[], edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.replaceQueue(ctx, { userId, trackIds, ...this.editFields(edit) }));
  }

  async removeItem(ctx: CallContext, userId: string, queueItemId: string, edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.removeQueueItem(ctx, { userId, queueItemId, ...this.editFields(edit) }));
  }

  async removeItems(ctx: CallContext, userId: string, queueItemIds: string[], edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.removeQueueItems(ctx, { userId, queueItemIds, ...this.editFields(edit) }));
  }

  async moveItem(ctx: CallContext, userId: string, queueItemId: string, beforeQueueItemId: string | null, edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () =>
      this.playback.moveQueueItem(ctx, { userId, queueItemId, beforeQueueItemId: beforeQueueItemId ?? '', ...this.editFields(edit) }),
    );
  }

  async clearQueue(ctx: CallContext, userId: string, scope: 'upcoming' | 'all', edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () =>
      this.playback.clearQueue(ctx, { userId, upcomingOnly: scope === 'upcoming', ...this.editFields(edit) }),
    );
  }

  async setShuffle(ctx: CallContext, userId: string, shuffle: boolean, edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.setShuffle(ctx, { userId, shuffle, ...this.editFields(edit) }));
  }

  async setRepeat(ctx: CallContext, userId: string, repeat: RepeatModeName, edit: QueueEdit): Promise<QueueView> {
    return this.editQueue(ctx, userId, () => this.playback.setRepeat(ctx, { userId, repeat: REPEAT_MODES[repeat], ...this.editFields(edit) }));
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
    const outcome = await this.playback.reportProgress(ctx, {
      userId,
      deviceId: progress.device_id,
      queueItemId: progress.queue_item_id,
      positionMs: progress.position_ms,
      isPlaying: progress.is_playing,
      playbackRate: progress.playback_rate,
      clientTimestampMs: progress.client_timestamp_ms,
      takeOver: progress.take_over,
    });
    const state = await this.stateView(ctx, outcome.state);
    const reason = outcome.ignoredReason;
    return { ...state, applied: outcome.applied, ignored_reason: reason === 'STALE_REPORT' || reason === 'NOT_ACTIVE_DEVICE' ? reason : null };
  }

  /** The current playback state, or undefined when the user has never played anything. */
  async state(ctx: CallContext, userId: string): Promise<PlayerStateView | undefined> {
    const state = await this.playback.getPlaybackState(ctx, userId);
    return state && this.stateView(ctx, state);
  }

  async devices(ctx: CallContext, userId: string): Promise<DevicesView> {
    const devices = await this.playback.listDevices(ctx, userId);
    return { devices: devices.map((d) => ({ device_id: d.deviceId, is_active: d.isActive, last_seen_at: d.lastSeenAt })) };
  }

  async recentlyPlayed(ctx: CallContext, userId: string, query: RecentlyPlayedQuery): Promise<RecentlyPlayedView> {
    const page = await this.playback.listRecentlyPlayed(ctx, {
      userId,
      limit: query.limit,
      cursor: query.cursor ?? '',
      includeSkips: query.include_skips,
    });
    const tracks = await this.tracksById(ctx, page.items.map((item) => item.trackId));
    return {
      items: page.items.map((item) => ({
        track: tracks.get(item.trackId) ?? null,
        queue_item_id: item.queueItemId,
        kind: item.kind === 'skip' ? 'skip' : 'play',
        played_ms: item.playedMs,
        played_at: item.playedAt,
      })),
      next_cursor: page.nextCursor || null,
    };
  }

  private editFields(edit: QueueEdit): { expectedVersion: number | undefined; deviceId: string } {
    return { expectedVersion: edit.expectedVersion, deviceId: edit.deviceId ?? '' };
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
    const tracks = await this.tracksById(ctx, queue.items.map((item) => item.trackId));
    return {
      items: queue.items.map((item) => ({
        queue_item_id: item.queueItemId,
        track: tracks.get(item.trackId) ?? null,
        added_at: item.addedAt,
      })),
      current_queue_item_id: queue.currentQueueItemId || null,
      version: queue.version,
      shuffle: queue.shuffle,
      repeat: REPEAT_NAMES[queue.repeat],
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
      playback_rate: state.playbackRate || 1,
      updated_at: state.updatedAt,
      server_time: state.serverTime || new Date().toISOString(),
      version: state.version,
    };
  }

  private async tracksById(ctx: CallContext, trackIds: readonly string[]): Promise<Map<string, TrackView>> {
    const { tracks } = await this.metadata.batchGetTracks(ctx, [...new Set(trackIds)]);
    return new Map(tracks.map((track) => [track.trackId, toTrackView(track)]));
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { PlaybackReason } from '@overture/contracts';
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
import { PlaybackClient, type QueueChange, type StateChange } from '../downstream/playback.client.js';
import type { Written } from '../http/idempotency-key.js';
import {
  toDevicesView,
  toProgressRequest,
  toProgressView,
  toQueueView,
  toRecentlyPlayedView,
  toRepeatMode,
  toStateView,
  trackIdsOf,
  type Enrichment,
} from './player.mapper.js';
import { QueueConflictError } from './queue-conflict.error.js';

/** The client's Idempotency-Key, if it sent one. */
type IdempotencyKey = string | undefined;

/** Who makes a queue change and the version they expect it to apply to. */
export interface QueueEdit {
  readonly expectedVersion: number | undefined;
  readonly deviceId: string | undefined;
}

/**
 * The player as clients see it: the playback service's queue, state, devices and history, with
 * tracks resolved from the catalogue. The user is always the token's subject, passed in by the
 * controller. A change answers with whether it was a replay of an earlier one with the same key.
 */
@Injectable()
export class PlayerService {
  private readonly logger = new Logger(PlayerService.name);

  constructor(
    @Inject(PlaybackClient) private readonly playback: PlaybackClient,
    @Inject(MetadataClient) private readonly metadata: MetadataClient,
  ) {}

  async queue(ctx: CallContext, userId: string): Promise<QueueView> {
    const queue = await this.playback.getQueue(ctx, userId);
    return toQueueView(queue, await this.tracksById(ctx, trackIdsOf(queue)));
  }

  /** The queue version alone, without resolving tracks (for conditional reads). */
  async queueVersion(ctx: CallContext, userId: string): Promise<number> {
    return (await this.playback.getQueue(ctx, userId)).version;
  }

  async addToQueue(
    ctx: CallContext,
    userId: string,
    trackIds: string[],
    position: 'end' | 'next',
    edit: QueueEdit,
    key: IdempotencyKey,
  ): Promise<Written<QueueView>> {
    const request = { userId, trackIds, ...editFields(edit, key) };
    return this.editQueue(ctx, userId, () =>
      position === 'next' ? this.playback.insertNext(ctx, request) : this.playback.addToQueue(ctx, request),
    );
  }

  async replaceQueue(
    ctx: CallContext,
    userId: string,
    trackIds: string[],
    edit: QueueEdit,
    key: IdempotencyKey,
  ): Promise<Written<QueueView>> {
    return this.editQueue(ctx, userId, () => this.playback.replaceQueue(ctx, { userId, trackIds, ...editFields(edit, key) }));
  }

  async removeItem(
    ctx: CallContext,
    userId: string,
    queueItemId: string,
    edit: QueueEdit,
    key: IdempotencyKey,
  ): Promise<Written<QueueView>> {
    return this.editQueue(ctx, userId, () => this.playback.removeQueueItem(ctx, { userId, queueItemId, ...editFields(edit, key) }));
  }

  async removeItems(
    ctx: CallContext,
    userId: string,
    queueItemIds: string[],
    edit: QueueEdit,
    key: IdempotencyKey,
  ): Promise<Written<QueueView>> {
    return this.editQueue(ctx, userId, () => this.playback.removeQueueItems(ctx, { userId, queueItemIds, ...editFields(edit, key) }));
  }

  async moveItem(
    ctx: CallContext,
    userId: string,
    queueItemId: string,
    beforeQueueItemId: string | null,
    edit: QueueEdit,
    key: IdempotencyKey,
  ): Promise<Written<QueueView>> {
    return this.editQueue(ctx, userId, () =>
      this.playback.moveQueueItem(ctx, { userId, queueItemId, beforeQueueItemId: beforeQueueItemId ?? '', ...editFields(edit, key) }),
    );
  }

  async clearQueue(
    ctx: CallContext,
    userId: string,
    scope: 'upcoming' | 'all',
    edit: QueueEdit,
    key: IdempotencyKey,
  ): Promise<Written<QueueView>> {
    return this.editQueue(ctx, userId, () =>
      this.playback.clearQueue(ctx, { userId, upcomingOnly: scope === 'upcoming', ...editFields(edit, key) }),
    );
  }

  async setShuffle(ctx: CallContext, userId: string, shuffle: boolean, edit: QueueEdit, key: IdempotencyKey): Promise<Written<QueueView>> {
    return this.editQueue(ctx, userId, () => this.playback.setShuffle(ctx, { userId, shuffle, ...editFields(edit, key) }));
  }

  async setRepeat(
    ctx: CallContext,
    userId: string,
    repeat: RepeatModeName,
    edit: QueueEdit,
    key: IdempotencyKey,
  ): Promise<Written<QueueView>> {
    return this.editQueue(ctx, userId, () =>
      this.playback.setRepeat(ctx, { userId, repeat: toRepeatMode(repeat), ...editFields(edit, key) }),
    );
  }

  async skipToNext(
    ctx: CallContext,
    userId: string,
    deviceId: string,
    trackEnded: boolean,
    key: IdempotencyKey,
  ): Promise<Written<PlayerStateView>> {
    return this.stateChanged(ctx, await this.playback.skipToNext(ctx, { userId, deviceId, trackEnded, idempotencyKey: key }));
  }

  async skipToPrevious(ctx: CallContext, userId: string, deviceId: string, key: IdempotencyKey): Promise<Written<PlayerStateView>> {
    return this.stateChanged(ctx, await this.playback.skipToPrevious(ctx, { userId, deviceId, idempotencyKey: key }));
  }

  async jumpTo(
    ctx: CallContext,
    userId: string,
    queueItemId: string,
    deviceId: string,
    key: IdempotencyKey,
  ): Promise<Written<PlayerStateView>> {
    return this.stateChanged(ctx, await this.playback.jumpToItem(ctx, { userId, deviceId, queueItemId, idempotencyKey: key }));
  }

  async transfer(
    ctx: CallContext,
    userId: string,
    deviceId: string,
    play: boolean | undefined,
    key: IdempotencyKey,
  ): Promise<Written<PlayerStateView>> {
    return this.stateChanged(ctx, await this.playback.transferPlayback(ctx, { userId, deviceId, play, idempotencyKey: key }));
  }

  async reportProgress(ctx: CallContext, userId: string, progress: ProgressBody, key: IdempotencyKey): Promise<Written<ProgressView>> {
    const outcome = await this.playback.reportProgress(ctx, { ...toProgressRequest(userId, progress), idempotencyKey: key });
    const { view, replayed } = await this.stateChanged(ctx, outcome);
    return { view: toProgressView(outcome, view), replayed };
  }

  /** The current playback state, or undefined when the user has never played anything. */
  async state(ctx: CallContext, userId: string): Promise<PlayerStateView | undefined> {
    const state = await this.playback.getPlaybackState(ctx, userId);
    return state && toStateView(state, await this.tracksById(ctx, trackIdsOf(state)));
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
    const { tracks } = await this.tracksById(
      ctx,
      page.items.map((item) => item.trackId),
    );
    return toRecentlyPlayedView(page, tracks);
  }

  // A stale If-Match is answered with the current queue, so the client can rebase at once.
  private async editQueue(ctx: CallContext, userId: string, change: () => Promise<QueueChange>): Promise<Written<QueueView>> {
    let changed: QueueChange;
    try {
      changed = await change();
    } catch (error) {
      if (error instanceof DownstreamError && error.reason === PlaybackReason.VERSION_MISMATCH) {
        throw new QueueConflictError(await this.queue(ctx, userId), error.details, { cause: error });
      }
      throw error;
    }
    const view = toQueueView(changed.queue, await this.tracksAfterChange(ctx, trackIdsOf(changed.queue)));
    return { view, replayed: changed.replayed };
  }

  private async stateChanged(ctx: CallContext, changed: StateChange): Promise<Written<PlayerStateView>> {
    const view = toStateView(changed.state, await this.tracksAfterChange(ctx, trackIdsOf(changed.state)));
    return { view, replayed: changed.replayed };
  }

  private async tracksById(ctx: CallContext, trackIds: readonly string[]): Promise<Enrichment> {
    const { tracks } = await this.metadata.batchGetTracks(ctx, [...new Set(trackIds)]);
    return { tracks: new Map(tracks.map((track) => [track.trackId, toTrackView(track)])), partial: false };
  }

  // The change is committed by now: a catalogue that is down or slow (or a breaker that is open)
  // costs the answer its track details, never its success, lest the client retry a done change.
  private async tracksAfterChange(ctx: CallContext, trackIds: readonly string[]): Promise<Enrichment> {
    try {
      return await this.tracksById(ctx, trackIds);
    } catch (error) {
      if (!(error instanceof DownstreamError)) throw error;
      this.logger.warn({ msg: 'answering a committed change without track details', service: error.service, code: error.code });
      return { tracks: new Map(), partial: true };
    }
  }
}

function editFields(
  edit: QueueEdit,
  key: IdempotencyKey,
): { expectedVersion: number | undefined; deviceId: string; idempotencyKey: IdempotencyKey } {
  return { expectedVersion: edit.expectedVersion, deviceId: edit.deviceId ?? '', idempotencyKey: key };
}

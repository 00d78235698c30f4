import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { DataSource } from 'typeorm';
import { TrackCatalogue } from '../catalogue/track-catalogue.js';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { PlaybackStateRepository } from './playback-state.repository.js';
import { assertVersion, replaceRemovedItem, requireItem } from './playback.rules.js';
import type { Queue } from './playback.js';
import { QueueRepository } from './queue.repository.js';

/** A user's queue: reading it, adding tracks, removing items. */
@Injectable()
export class QueueService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(QueueRepository) private readonly queues: QueueRepository,
    @Inject(PlaybackStateRepository) private readonly states: PlaybackStateRepository,
    @Inject(TrackCatalogue) private readonly catalogue: TrackCatalogue,
    @Inject(PLAYBACK_CONFIG) private readonly config: Pick<PlaybackConfig, 'QUEUE_MAX_ITEMS'>,
  ) {}

  /** The queue as one snapshot; empty at version 0 for a user who never had one. */
  async get(userId: string): Promise<Queue> {
    return this.db.transaction('REPEATABLE READ', async (em) => {
      const head = await this.queues.findHead(userId, em);
      if (!head) return { items: [], currentItemId: null, version: 0 };
      return { ...head, items: await this.queues.listItems(userId, em) };
    });
  }

  /** Appends tracks in the order given, each as a new item (a track may be queued more than once). */
  async add(userId: string, trackIds: readonly string[], expectedVersion: number | undefined): Promise<Queue> {
    // Asked before the transaction, so no queue lock is held while metadata answers; a failure
    // (UNAVAILABLE included) leaves nothing written.
    const { durations, missing } = await this.catalogue.lookup([...new Set(trackIds)]);
    if (missing.length > 0) {
      throw new DomainError(ErrorCategory.InvalidArgument, 'UNKNOWN_TRACK', `trackIds: no such track: ${missing.join(', ')}`);
    }
    const tracks = trackIds.map((trackId) => ({ trackId, durationMs: durations.get(trackId) ?? 0 }));
    return this.db.transaction(async (em) => {
      const head = await this.queues.lock(em, userId);
      assertVersion(head.version, expectedVersion);
      const count = await this.queues.countItems(em, userId);
      if (count + tracks.length > this.config.QUEUE_MAX_ITEMS) {
        throw new DomainError(
          ErrorCategory.FailedPrecondition,
          'QUEUE_FULL',
          `the queue holds ${count} of at most ${this.config.QUEUE_MAX_ITEMS} items; ${tracks.length} more do not fit`,
        );
      }
      await this.queues.append(em, userId, tracks);
      const version = await this.queues.saveHead(em, userId, head.currentItemId);
      return { currentItemId: head.currentItemId, version, items: await this.queues.listItems(userId, em) };
    });
  }

  /** Removes one item; removing the current one makes the following item current (or none). */
  async remove(userId: string, itemId: string, expectedVersion: number | undefined): Promise<Queue> {
    return this.db.transaction(async (em) => {
      const head = await this.queues.lock(em, userId);
      assertVersion(head.version, expectedVersion);
      const item = requireItem(await this.queues.findItem(em, userId, itemId), itemId);
      let currentItemId = head.currentItemId;
      if (item.id === head.currentItemId) {
        const following = await this.queues.itemAfter(em, userId, item.position);
        currentItemId = following?.id ?? null;
        const state = await this.states.find(userId, em);
        if (state) await this.states.save(em, userId, replaceRemovedItem(state, following, new Date()));
      }
      // Current item and state move off the item first: both reference it.
      const version = await this.queues.saveHead(em, userId, currentItemId);
      await this.queues.deleteItem(em, userId, item.id);
      return { currentItemId, version, items: await this.queues.listItems(userId, em) };
    });
  }
}

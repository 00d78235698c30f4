import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { PlayHistoryRepository } from './play-history.repository.js';
import { PlaybackStateRepository } from './playback-state.repository.js';
import {
  applyProgress,
  assertCurrent,
  eventOnLeaving,
  nextItem,
  requireItem,
  startItem,
  type ProgressReport,
} from './playback.rules.js';
import type { PlaybackState, PlayKind, QueueItem } from './playback.js';
import { QueueRepository } from './queue.repository.js';

/** Playback of a user's queue: skipping, device heartbeats, and the play events they produce. */
@Injectable()
export class PlaybackService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(QueueRepository) private readonly queues: QueueRepository,
    @Inject(PlaybackStateRepository) private readonly states: PlaybackStateRepository,
    @Inject(PlayHistoryRepository) private readonly history: PlayHistoryRepository,
    @Inject(OutboxRepository) private readonly outbox: OutboxRepository,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
  ) {}

  /** Undefined for a user who has never played anything. */
  async getState(userId: string): Promise<PlaybackState | undefined> {
    return this.states.find(userId);
  }

  /**
   * Moves playback to the next item (the first one if nothing is current yet) on `deviceId`,
   * recording a play or a skip for the item left if none was recorded for it yet.
   */
  async skipToNext(userId: string, deviceId: string): Promise<PlaybackState> {
    const { state, recorded } = await this.db.transaction(async (em) => {
      const head = await this.queues.lock(em, userId);
      const current = head.currentItemId ? await this.queues.findItem(em, userId, head.currentItemId) : undefined;
      const next = nextItem(current, await this.queues.itemAfter(em, userId, current?.position ?? null));
      const previous = await this.states.find(userId, em);
      const now = new Date();
      const leaving = eventOnLeaving(previous);
      if (leaving) await this.record(em, userId, leaving.item, leaving.kind, leaving.playedMs, now);
      const state = startItem(previous, next, deviceId, now);
      await this.queues.saveHead(em, userId, next.id);
      await this.states.save(em, userId, state);
      return { state, recorded: leaving !== undefined };
    });
    if (recorded) this.relay.wake();
    return state;
  }

  /** A device's heartbeat for the current item; records its play once it reaches the threshold. */
  async reportProgress(userId: string, itemId: string, report: ProgressReport): Promise<PlaybackState> {
    const { state, recordPlay } = await this.db.transaction(async (em) => {
      // The queue lock serialises this with skips and removals of the same user.
      const head = await this.queues.lock(em, userId);
      const item = requireItem(await this.queues.findItem(em, userId, itemId), itemId);
      assertCurrent(head.currentItemId, item);
      const now = new Date();
      const outcome = applyProgress(await this.states.find(userId, em), item, report, now);
      if (outcome.recordPlay) await this.record(em, userId, item, 'play', report.positionMs, now);
      await this.states.save(em, userId, outcome.state);
      return outcome;
    });
    if (recordPlay) this.relay.wake();
    return state;
  }

  // History and outbox are written in the transaction of the state change that caused the event.
  private async record(em: EntityManager, userId: string, item: QueueItem, kind: PlayKind, playedMs: number, now: Date): Promise<void> {
    const event = { eventId: randomUUID(), userId, trackId: item.trackId, queueItemId: item.id, kind, playedMs, occurredAt: now };
    await this.history.insert(em, event);
    await this.outbox.append(em, event);
  }
}

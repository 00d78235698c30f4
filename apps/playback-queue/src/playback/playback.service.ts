import { Inject, Injectable } from '@nestjs/common';
import type { KeyedWrite } from '@overture/idempotency';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { DeviceRepository } from '../devices/device.repository.js';
import { PlaybackChangePublisher } from '../events/playback-change.publisher.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { invalidCursor, noActiveDevice } from '../playback.errors.js';
import { PlayHistoryRepository } from './play-history.repository.js';
import { PlaybackStateRepository } from './playback-state.repository.js';
import {
  applyProgress,
  assertCurrent,
  eventOnLeaving,
  ignoredReason,
  nextItem,
  previousItem,
  requireItem,
  startItem,
  transferTo,
  type IgnoredReason,
  type ProgressReport,
} from './playback.rules.js';
import type { Device, PlaybackState, PlayedItem, PlayKind, QueueHead, QueueItem } from './playback.js';
import { QueueRepository } from './queue.repository.js';

export interface ProgressOutcome {
  state: PlaybackState;
  /** Set when the report changed nothing, saying why. */
  ignored?: IgnoredReason;
}

export interface RecentlyPlayedPage {
  items: PlayedItem[];
  /** The id of the last item when more may follow. */
  nextAfterId?: string;
}

/**
 * Playback of a user's queue: moving between items, device heartbeats and handoff, the play and
 * skip events they produce (history and outbox, in the same transaction), and the devices seen.
 */
@Injectable()
export class PlaybackService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(QueueRepository) private readonly queues: QueueRepository,
    @Inject(PlaybackStateRepository) private readonly states: PlaybackStateRepository,
    @Inject(PlayHistoryRepository) private readonly history: PlayHistoryRepository,
    @Inject(DeviceRepository) private readonly devices: DeviceRepository,
    @Inject(OutboxRepository) private readonly outbox: OutboxRepository,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(PlaybackChangePublisher) private readonly changes: PlaybackChangePublisher,
  ) {}

  /** Undefined for a user who has never played anything. */
  async getState(userId: string): Promise<PlaybackState | undefined> {
    return this.states.find(userId);
  }

  /**
   * Moves playback to the next item (the first one if nothing is current yet; past the last one,
   * the first again under repeat `context`). When the track played to its end under repeat
   * `track`, the same item starts again instead.
   */
  async skipToNext(userId: string, deviceId: string, trackEnded: boolean, keyed?: KeyedWrite<PlaybackState>): Promise<PlaybackState> {
    return this.navigate(userId, deviceId, keyed, async (em, head, current) => {
      if (trackEnded && head.repeat === 'track' && current) return current;
      const following = await this.queues.itemAfter(em, userId, current?.position ?? null);
      const first = following ? undefined : await this.queues.itemAfter(em, userId, null);
      return nextItem(current, following, head.repeat, first);
    });
  }

  /** Moves playback to the previous item (past the first one, the last under repeat `context`). */
  async skipToPrevious(userId: string, deviceId: string, keyed?: KeyedWrite<PlaybackState>): Promise<PlaybackState> {
    return this.navigate(userId, deviceId, keyed, async (em, head, current) => {
      const preceding = current ? await this.queues.itemBefore(em, userId, current.position) : undefined;
      const last = await this.queues.itemBefore(em, userId, null);
      return previousItem(current, preceding, head.repeat, last);
    });
  }

  /** Makes `itemId` current, from its start. */
  async jumpTo(userId: string, deviceId: string, itemId: string, keyed?: KeyedWrite<PlaybackState>): Promise<PlaybackState> {
    return this.navigate(userId, deviceId, keyed, async (em) => requireItem(await this.queues.findItem(em, userId, itemId), itemId));
  }

  /**
   * A device's heartbeat for the current item, under the rule of `ignoredReason`; an accepted
   * report records the item's play once it reaches the threshold.
   */
  async reportProgress(
    userId: string,
    itemId: string,
    report: ProgressReport,
    keyed?: KeyedWrite<ProgressOutcome>,
  ): Promise<ProgressOutcome> {
    const outcome = await this.db.transaction(async (em) => {
      await keyed?.claim(em);
      const outcome = await this.applyReport(em, userId, itemId, report);
      await keyed?.record(em, { state: outcome.state, ignored: outcome.ignored });
      return outcome;
    });
    if (outcome.recordPlay) this.relay.wake();
    return { state: outcome.state, ignored: outcome.ignored };
  }

  private async applyReport(
    em: EntityManager,
    userId: string,
    itemId: string,
    report: ProgressReport,
  ): Promise<ProgressOutcome & { recordPlay: boolean }> {
    // The queue lock serialises this with skips and removals of the same user.
    const head = await this.queues.lock(em, userId);
    const item = requireItem(await this.queues.findItem(em, userId, itemId), itemId);
    const now = new Date();
    const previous = await this.states.find(userId, em);
    const lastAccepted = await this.devices.touch(em, userId, report.deviceId, now);
    // Validates the position before deciding whether to ignore the report: bad input is always an error.
    const applied = applyProgress(previous, item, report, now);
    const ignored = ignoredReason(previous, report, lastAccepted);
    if (ignored) return { state: previous ?? applied.state, ignored, recordPlay: false };
    assertCurrent(head.currentItemId, item);
    if (report.clientTimestamp !== undefined) await this.devices.saveLastReport(em, userId, report.deviceId, report.clientTimestamp);
    if (applied.recordPlay) await this.record(em, userId, item, 'play', report.positionMs, now);
    await this.states.save(em, userId, applied.state);
    await this.publishState(em, userId, report.deviceId, applied.state);
    return { state: applied.state, recordPlay: applied.recordPlay };
  }

  /** Moves playback to `deviceId`, at the position the previous device had extrapolated to now. */
  async transfer(userId: string, deviceId: string, play: boolean | undefined, keyed?: KeyedWrite<PlaybackState>): Promise<PlaybackState> {
    return this.db.transaction(async (em) => {
      await keyed?.claim(em);
      await this.queues.lock(em, userId);
      const now = new Date();
      await this.devices.touch(em, userId, deviceId, now);
      const previous = await this.states.find(userId, em);
      if (!previous) throw noActiveDevice();
      const state = transferTo(previous, deviceId, play, now);
      await this.states.save(em, userId, state);
      await this.publishState(em, userId, deviceId, state);
      await keyed?.record(em, state);
      return state;
    });
  }

  async listDevices(userId: string): Promise<{ devices: Device[]; activeDeviceId: string | undefined }> {
    const [devices, state] = await Promise.all([this.devices.list(userId), this.states.find(userId)]);
    return { devices, activeDeviceId: state?.deviceId };
  }

  /** Newest first; `afterId` continues after that entry. NOT a cap: page on with nextAfterId. */
  async recentlyPlayed(userId: string, limit: number, afterId: string | undefined, includeSkips: boolean): Promise<RecentlyPlayedPage> {
    const items = await this.history.listRecent(userId, { limit: limit + 1, afterId, includeSkips });
    if (!items) throw invalidCursor();
    const page = items.slice(0, limit);
    return { items: page, nextAfterId: items.length > limit ? page.at(-1)?.id : undefined };
  }

  /**
   * Moves playback to the item `choose` picks, on `deviceId`, from its start: records a play or a
   * skip for the item left (unless one was recorded for it already), and updates queue and state.
   */
  private async navigate(
    userId: string,
    deviceId: string,
    keyed: KeyedWrite<PlaybackState> | undefined,
    choose: (em: EntityManager, head: QueueHead, current: QueueItem | undefined) => Promise<QueueItem>,
  ): Promise<PlaybackState> {
    const { state, recorded } = await this.db.transaction(async (em) => {
      await keyed?.claim(em);
      const head = await this.queues.lock(em, userId);
      const current = head.currentItemId ? await this.queues.findItem(em, userId, head.currentItemId) : undefined;
      const target = await choose(em, head, current);
      const now = new Date();
      await this.devices.touch(em, userId, deviceId, now);
      const previous = await this.states.find(userId, em);
      const leaving = eventOnLeaving(previous);
      if (leaving) await this.record(em, userId, leaving.item, leaving.kind, leaving.playedMs, now);
      const state = startItem(previous, target, deviceId, now);
      const version = await this.queues.saveHead(em, userId, { ...head, currentItemId: target.id });
      await this.states.save(em, userId, state);
      await this.changes.publish(em, { kind: 'queue', userId, version, change: 'current', deviceId });
      await this.publishState(em, userId, deviceId, state);
      await keyed?.record(em, state);
      return { state, recorded: leaving !== undefined };
    });
    if (recorded) this.relay.wake();
    return state;
  }

  private async publishState(em: EntityManager, userId: string, deviceId: string, state: PlaybackState): Promise<void> {
    await this.changes.publish(em, { kind: 'state', userId, version: state.version, deviceId, state });
  }

  // History and outbox are written in the transaction of the state change that caused the event.
  private async record(em: EntityManager, userId: string, item: QueueItem, kind: PlayKind, playedMs: number, now: Date): Promise<void> {
    const event = { eventId: randomUUID(), userId, trackId: item.trackId, queueItemId: item.id, kind, playedMs, occurredAt: now };
    await this.history.insert(em, event);
    await this.outbox.append(em, event);
  }
}

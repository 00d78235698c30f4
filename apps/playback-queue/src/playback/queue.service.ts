import { Inject, Injectable } from '@nestjs/common';
import type { KeyedWrite } from '@overture/idempotency';
import { DataSource, type EntityManager } from 'typeorm';
import { TrackCatalogue } from '../catalogue/track-catalogue.js';
import { DeviceRepository } from '../devices/device.repository.js';
import { PlaybackChangePublisher } from '../events/playback-change.publisher.js';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { invalidMove, queueFull, queueItemNotFound, unknownTrack } from '../playback.errors.js';
import { PlaybackStateRepository } from './playback-state.repository.js';
import { assertVersion, replaceRemovedItem, requireItem } from './playback.rules.js';
import type { PlaybackState, Queue, QueueHead, RepeatMode } from './playback.js';
import { QueueRepository, type NewTrack } from './queue.repository.js';

// The catalogue answers at most this many ids per lookup.
const LOOKUP_CHUNK = 100;

/** Who asks for a change, and the queue version they expect it to apply to (if they care). */
export interface EditOptions {
  expectedVersion?: number;
  /** Empty when the caller did not name a device. */
  deviceId: string;
  /** The client's idempotency key, claimed and recorded in the edit's transaction. */
  keyed?: KeyedWrite<Queue>;
}

/** What an edit did beyond its own item changes: the new head fields, and the playback state if it changed. */
interface EditOutcome {
  head?: Partial<Omit<QueueHead, 'version'>>;
  state?: PlaybackState;
  /** Nothing changed (e.g. shuffle turned on when it already was): no new version, no event. */
  unchanged?: boolean;
}

/**
 * A user's queue and its editing operations. Each runs in one transaction under the queue row's
 * lock, so a user's edits are applied one at a time, each to the queue as the one before left it:
 * edits addressed by item id from two devices both apply (no lost update) without any expected
 * version. An edit that fails leaves nothing behind.
 */
@Injectable()
export class QueueService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(QueueRepository) private readonly queues: QueueRepository,
    @Inject(PlaybackStateRepository) private readonly states: PlaybackStateRepository,
    @Inject(DeviceRepository) private readonly devices: DeviceRepository,
    @Inject(PlaybackChangePublisher) private readonly changes: PlaybackChangePublisher,
    @Inject(TrackCatalogue) private readonly catalogue: TrackCatalogue,
    @Inject(PLAYBACK_CONFIG) private readonly config: Pick<PlaybackConfig, 'QUEUE_MAX_ITEMS'>,
  ) {}

  /** The queue as one snapshot; empty at version 0 for a user who never had one. */
  async get(userId: string): Promise<Queue> {
    return this.db.transaction('REPEATABLE READ', async (em) => {
      const head = await this.queues.findHead(userId, em);
      if (!head) return { items: [], currentItemId: null, version: 0, shuffle: false, repeat: 'off' };
      return { ...head, items: await this.queues.listItems(userId, em) };
    });
  }

  /** Appends tracks in the order given, each as a new item (a track may be queued more than once). */
  async add(userId: string, trackIds: readonly string[], options: EditOptions): Promise<Queue> {
    const tracks = await this.resolve(trackIds);
    return this.edit(userId, options, 'add', async (em, head) => {
      await this.assertRoom(em, userId, tracks.length);
      await this.queues.append(em, userId, tracks, head.shuffle);
      return {};
    });
  }

  /** Inserts tracks right after the current item, in the order given (at the start when nothing is current). */
  async insertNext(userId: string, trackIds: readonly string[], options: EditOptions): Promise<Queue> {
    const tracks = await this.resolve(trackIds);
    return this.edit(userId, options, 'insert_next', async (em, head) => {
      await this.assertRoom(em, userId, tracks.length);
      const current = head.currentItemId ? await this.queues.findItem(em, userId, head.currentItemId) : undefined;
      const originalAfter = head.shuffle ? (current ? ((await this.queues.originalPosition(em, userId, current.id)) ?? 0) : 0) : null;
      await this.queues.insertAfter(em, userId, current?.position ?? 0, tracks, originalAfter);
      return {};
    });
  }

  /** Moves an item right before another one, or to the end when `beforeItemId` is undefined. */
  async move(userId: string, itemId: string, beforeItemId: string | undefined, options: EditOptions): Promise<Queue> {
    if (itemId === beforeItemId) {
      throw invalidMove();
    }
    return this.edit(userId, options, 'move', async (em) => {
      const item = requireItem(await this.queues.findItem(em, userId, itemId), itemId);
      const before =
        beforeItemId === undefined ? undefined : requireItem(await this.queues.findItem(em, userId, beforeItemId), beforeItemId);
      await this.queues.moveItem(em, userId, item.id, before?.position ?? null);
      return {};
    });
  }

  /**
   * Removes items, all or none (NOT_FOUND names any unknown one). Removing the current item makes
   * the next remaining one current, from its start (or none).
   */
  async remove(userId: string, itemIds: readonly string[], options: EditOptions): Promise<Queue> {
    const ids = [...new Set(itemIds)];
    return this.edit(userId, options, 'remove', async (em, head) => {
      const found = await this.queues.findItems(em, userId, ids);
      const missing = ids.filter((id) => !found.some((item) => item.id === id));
      if (missing.length > 0) {
        throw queueItemNotFound(missing);
      }
      const current = found.find((item) => item.id === head.currentItemId);
      if (!current) {
        await this.queues.deleteItems(em, userId, ids);
        return {};
      }
      const following = await this.queues.itemAfter(em, userId, current.position, ids);
      const state = await this.moveStateOff(em, userId, following?.id ?? null, (previous) =>
        replaceRemovedItem(previous, following, new Date()),
      );
      await this.queues.deleteItems(em, userId, ids);
      return { head: { currentItemId: following?.id ?? null }, state };
    });
  }

  /** Removes the items after the current one (`upcomingOnly`; every item when nothing is current), or all of them. */
  async clear(userId: string, upcomingOnly: boolean, options: EditOptions): Promise<Queue> {
    return this.edit(userId, options, upcomingOnly ? 'clear_upcoming' : 'clear', async (em, head) => {
      const current = head.currentItemId ? await this.queues.findItem(em, userId, head.currentItemId) : undefined;
      if (upcomingOnly && current) {
        await this.queues.deleteAfter(em, userId, current.position);
        return {};
      }
      const state = await this.moveStateOff(em, userId, null, (previous) => replaceRemovedItem(previous, undefined, new Date()));
      await this.queues.deleteAfter(em, userId, null);
      return { head: { currentItemId: null }, state };
    });
  }

  /** Replaces every item with the tracks given; nothing is current afterwards (shuffled again if shuffle is on). */
  async replace(userId: string, trackIds: readonly string[], options: EditOptions): Promise<Queue> {
    const tracks = await this.resolve(trackIds);
    if (tracks.length > this.config.QUEUE_MAX_ITEMS) throw queueFull(0, tracks.length, this.config.QUEUE_MAX_ITEMS);
    return this.edit(userId, options, 'replace', async (em, head) => {
      const state = await this.moveStateOff(em, userId, null, (previous) => replaceRemovedItem(previous, undefined, new Date()));
      await this.queues.deleteAfter(em, userId, null);
      await this.queues.append(em, userId, tracks, false);
      if (head.shuffle) await this.queues.shuffle(em, userId, null);
      return { head: { currentItemId: null }, state };
    });
  }

  /** Shuffles the items after the current one, remembering their order; off restores it. */
  async setShuffle(userId: string, shuffle: boolean, options: EditOptions): Promise<Queue> {
    return this.edit(userId, options, shuffle ? 'shuffle_on' : 'shuffle_off', async (em, head) => {
      if (head.shuffle === shuffle) return { unchanged: true };
      if (shuffle) {
        const current = head.currentItemId ? await this.queues.findItem(em, userId, head.currentItemId) : undefined;
        await this.queues.shuffle(em, userId, current?.position ?? null);
      } else {
        await this.queues.unshuffle(em, userId);
      }
      return { head: { shuffle } };
    });
  }

  async setRepeat(userId: string, repeat: RepeatMode, options: EditOptions): Promise<Queue> {
    return this.edit(userId, options, `repeat_${repeat}`, async (_em, head) =>
      head.repeat === repeat ? { unchanged: true } : { head: { repeat } },
    );
  }

  /**
   * Runs one edit: idempotency key, lock, version check, the edit itself, then the new head and
   * version, the change events, the device's last-seen time and the key's answer, all in one transaction.
   */
  private async edit(
    userId: string,
    options: EditOptions,
    change: string,
    apply: (em: EntityManager, head: QueueHead) => Promise<EditOutcome>,
  ): Promise<Queue> {
    const { keyed } = options;
    return this.db.transaction(async (em) => {
      await keyed?.claim(em);
      const head = await this.queues.lock(em, userId);
      assertVersion(head.version, options.expectedVersion);
      const now = new Date();
      if (options.deviceId) await this.devices.touch(em, userId, options.deviceId, now);
      const outcome = await apply(em, head);
      const queue = outcome.unchanged
        ? { ...head, items: await this.queues.listItems(userId, em) }
        : await this.commitEdit(em, userId, head, outcome, change, options.deviceId);
      await keyed?.record(em, queue);
      return queue;
    });
  }

  /** The new head and version of an edit that changed something, and its change events. */
  private async commitEdit(
    em: EntityManager,
    userId: string,
    head: QueueHead,
    outcome: EditOutcome,
    change: string,
    deviceId: string,
  ): Promise<Queue> {
    const next = { currentItemId: head.currentItemId, shuffle: head.shuffle, repeat: head.repeat, ...outcome.head };
    const version = await this.queues.saveHead(em, userId, next);
    await this.changes.publish(em, { kind: 'queue', userId, version, change, deviceId });
    if (outcome.state) {
      const { state } = outcome;
      await this.changes.publish(em, { kind: 'state', userId, version: state.version, deviceId, state });
    }
    return { ...next, version, items: await this.queues.listItems(userId, em) };
  }

  // The current item and the playback state reference an item: both move off it before it is deleted.
  private async moveStateOff(
    em: EntityManager,
    userId: string,
    currentItemId: string | null,
    update: (previous: PlaybackState) => PlaybackState,
  ): Promise<PlaybackState | undefined> {
    await this.queues.setCurrent(em, userId, currentItemId);
    const previous = await this.states.find(userId, em);
    if (!previous || (previous.currentItem?.id ?? null) === currentItemId) return undefined;
    const state = update(previous);
    await this.states.save(em, userId, state);
    return state;
  }

  // Asked before the transaction, so no queue lock is held while metadata answers; a failure
  // (UNAVAILABLE included) leaves nothing written.
  private async resolve(trackIds: readonly string[]): Promise<NewTrack[]> {
    const distinct = [...new Set(trackIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < distinct.length; i += LOOKUP_CHUNK) chunks.push(distinct.slice(i, i + LOOKUP_CHUNK));
    const lookups = await Promise.all(chunks.map((chunk) => this.catalogue.lookup(chunk)));
    const missing = lookups.flatMap((lookup) => lookup.missing);
    if (missing.length > 0) {
      throw unknownTrack(missing);
    }
    const durations = new Map(lookups.flatMap((lookup) => [...lookup.durations]));
    return trackIds.map((trackId) => ({ trackId, durationMs: durations.get(trackId) ?? 0 }));
  }

  private async assertRoom(em: EntityManager, userId: string, adding: number): Promise<void> {
    const count = await this.queues.countItems(em, userId);
    if (count + adding > this.config.QUEUE_MAX_ITEMS) throw queueFull(count, adding, this.config.QUEUE_MAX_ITEMS);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { inLinkedSpan } from '@overture/tracing';
import { FeatureSyncService } from '../features/feature-sync.service.js';
import { PlayEventRepository } from './play-event.repository.js';
import type { PlayEvent, RecordPlayEventsResult } from './play-event.js';
import { aggregateTrackStats, countCoPlays, countPlaysPerTrack } from './play-statistics.js';

/** A play co-occurs with this many of the user's most recently played other tracks. */
const CO_PLAY_WINDOW = 20;

/**
 * Ingests play events exactly once per event id (delivery is at least once): the new events and
 * every counter they move are committed together, so a redelivered batch changes nothing.
 * Metadata is not on this path: features of tracks not known yet are copied afterwards. The work is
 * a span linked to the trace of each play it ingests.
 */
@Injectable()
export class RecordPlayEventsUseCase {
  constructor(
    @Inject(PlayEventRepository) private readonly events: PlayEventRepository,
    @Inject(FeatureSyncService) private readonly featureSync: FeatureSyncService,
  ) {}

  execute(events: readonly PlayEvent[]): Promise<RecordPlayEventsResult> {
    return inLinkedSpan(
      'ingest play events',
      'consumer',
      events.map((e) => e.traceparent),
      () => this.ingest(events),
    );
  }

  private async ingest(events: readonly PlayEvent[]): Promise<RecordPlayEventsResult> {
    // The first occurrence of an id in a batch wins; repeats are duplicates like redeliveries.
    const seen = new Set<string>();
    const unique = events.filter((e) => !seen.has(e.eventId) && Boolean(seen.add(e.eventId)));
    const fresh = await this.events.transaction(async (tx) => {
      const insertedIds = await this.events.insertNew(tx, unique);
      const inserted = unique.filter((e) => insertedIds.has(e.eventId));
      if (inserted.length === 0) return inserted;
      const plays = inserted.filter((e) => e.kind === 'play');
      // Read before this batch's counters land: the batch's plays join the history in countCoPlays.
      // One extra, because the played track itself may be among the most recent.
      const recent = await this.events.recentPlays(
        tx,
        plays.map((e) => e.userId),
        CO_PLAY_WINDOW + 1,
      );
      await this.events.addTrackStats(tx, aggregateTrackStats(inserted));
      await this.events.addCoPlays(tx, countCoPlays(plays, recent, CO_PLAY_WINDOW));
      await this.events.addPlays(tx, countPlaysPerTrack(plays));
      return inserted;
    });
    // Also for duplicates: a track whose features could not be fetched before gets another chance.
    this.featureSync.schedule(unique.map((e) => e.trackId));
    return { accepted: fresh.length, duplicates: events.length - fresh.length };
  }
}

import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { outsideRequest } from '@overture/tracing';
import { Catalogue } from './catalogue.js';
import { TrackFeaturesRepository } from './track-features.repository.js';
import type { TrackFeatures } from './track-features.js';

/** Ids taken from the queue per round of the background sync. */
const SYNC_ROUND = 500;

/**
 * Keeps this service's copy of track features filled from the catalogue (metadata). Metadata being
 * down never fails a caller: the features stay missing and are fetched again the next time they
 * are needed (the next play of the track, or a recommendation for a user who played it).
 */
@Injectable()
export class FeatureSyncService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(FeatureSyncService.name);
  private readonly queued = new Set<string>();
  private worker: Promise<void> | undefined;

  constructor(
    @Inject(TrackFeaturesRepository) private readonly features: TrackFeaturesRepository,
    @Inject(Catalogue) private readonly catalogue: Catalogue,
  ) {}

  /**
   * Copies, in the background, the features of those tracks not copied yet, so that ingestion
   * never waits on metadata. One worker drains the queue; ids queued meanwhile join the next round.
   */
  schedule(trackIds: readonly string[]): void {
    for (const id of trackIds) this.queued.add(id);
    if (this.worker || this.queued.size === 0) return;
    // Not in the context of the ingestion that scheduled it: its caller's deadline is not ours.
    this.worker = outsideRequest(() => this.drain());
  }

  /**
   * Fetches from the catalogue and stores the features of `trackIds` (ids known to be missing);
   * returns those found. An unavailable catalogue yields none.
   */
  async fetchMissing(trackIds: readonly string[]): Promise<TrackFeatures[]> {
    if (trackIds.length === 0) return [];
    let found: TrackFeatures[];
    try {
      found = await this.catalogue.getFeatures(trackIds);
    } catch (error) {
      this.logger.warn(`track features not fetched, metadata unavailable: ${describe(error)}`);
      return [];
    }
    await this.features.upsert(found);
    return found;
  }

  /** Stores features the catalogue returned for another purpose (e.g. a search), widening the copy. */
  async remember(found: readonly TrackFeatures[]): Promise<void> {
    await this.features.upsert(found);
  }

  // Let a round in flight finish while the database is still open.
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.size > 0) {
        const round = [...this.queued].slice(0, SYNC_ROUND);
        for (const id of round) this.queued.delete(id);
        try {
          await this.fetchMissing(await this.features.missingIds(round));
        } catch (error) {
          this.logger.error(`track feature sync failed: ${describe(error)}`);
        }
      }
    } finally {
      this.worker = undefined;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

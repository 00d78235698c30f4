import { Inject, Injectable } from '@nestjs/common';
import type { metadataV1 } from '@overture/contracts';
import { mapWithConcurrency } from '@overture/resilience';
import type { CallContext } from './call-context.js';
import { CATALOGUE_DOWNSTREAM, METADATA_DOWNSTREAM } from './downstream.tokens.js';
import type { Downstream } from './downstream.js';
import { required } from './required.js';

/** Most ids the metadata service takes in one BatchGetTracks. */
const METADATA_BATCH_LIMIT = 100;

/**
 * Batches of one request in flight at once: a 10 000-item queue is 100 batches, and all of them at
 * once would take 100 of metadata's calls (and pooled connections) for one client.
 */
export const METADATA_BATCHES_IN_FLIGHT = 4;

/** The metadata (catalogue) service, as the gateway uses it. */
@Injectable()
export class MetadataClient {
  constructor(
    @Inject(METADATA_DOWNSTREAM) private readonly metadata: Downstream<metadataV1.MetadataServiceClient>,
    @Inject(CATALOGUE_DOWNSTREAM) private readonly catalogue: Downstream<metadataV1.CatalogueServiceClient>,
  ) {}

  async getTrack(ctx: CallContext, trackId: string): Promise<metadataV1.Track> {
    const response = await this.metadata.read(ctx, (c, md, opts) => c.getTrack({ trackId }, md, opts));
    return required(response.track, 'metadata', 'the track');
  }

  /**
   * Tracks in the order asked, and the unknown ids. Ids beyond one batch go in batches, at most
   * METADATA_BATCHES_IN_FLIGHT at a time.
   */
  async batchGetTracks(ctx: CallContext, trackIds: readonly string[]): Promise<metadataV1.BatchGetTracksResponse> {
    if (trackIds.length === 0) return { tracks: [], missingTrackIds: [] };
    const batches: string[][] = [];
    for (let i = 0; i < trackIds.length; i += METADATA_BATCH_LIMIT) batches.push(trackIds.slice(i, i + METADATA_BATCH_LIMIT));
    const responses = await mapWithConcurrency(batches, METADATA_BATCHES_IN_FLIGHT, (ids) =>
      this.metadata.read(ctx, (c, md, opts) => c.batchGetTracks({ trackIds: ids }, md, opts)),
    );
    return {
      tracks: responses.flatMap((r) => r.tracks),
      missingTrackIds: [...new Set(responses.flatMap((r) => r.missingTrackIds))],
    };
  }

  searchTracks(ctx: CallContext, request: metadataV1.SearchTracksRequest): Promise<metadataV1.SearchTracksResponse> {
    return this.metadata.read(ctx, (c, md, opts) => c.searchTracks(request, md, opts));
  }

  getAttributes(ctx: CallContext): Promise<metadataV1.GetAttributesResponse> {
    return this.catalogue.read(ctx, (c, md, opts) => c.getAttributes({}, md, opts));
  }

  getArtist(ctx: CallContext, request: metadataV1.GetArtistRequest): Promise<metadataV1.GetArtistResponse> {
    return this.catalogue.read(ctx, (c, md, opts) => c.getArtist(request, md, opts));
  }

  getAlbum(ctx: CallContext, albumId: string): Promise<metadataV1.GetAlbumResponse> {
    return this.catalogue.read(ctx, (c, md, opts) => c.getAlbum({ albumId }, md, opts));
  }

  // The curator writes also say whether the answer is the stored one of an earlier call with the same idempotency key.

  async createTrack(ctx: CallContext, request: metadataV1.CreateTrackRequest): Promise<{ track: metadataV1.Track; replayed: boolean }> {
    const response = await this.catalogue.call(ctx, (c, md, opts) => c.createTrack(request, md, opts));
    return { track: required(response.track, 'metadata', 'the track'), replayed: response.replayed };
  }

  async updateTrack(ctx: CallContext, request: metadataV1.UpdateTrackRequest): Promise<{ track: metadataV1.Track; replayed: boolean }> {
    const response = await this.catalogue.call(ctx, (c, md, opts) => c.updateTrack(request, md, opts));
    return { track: required(response.track, 'metadata', 'the track'), replayed: response.replayed };
  }

  async deleteTrack(ctx: CallContext, request: metadataV1.DeleteTrackRequest): Promise<{ replayed: boolean }> {
    const response = await this.catalogue.call(ctx, (c, md, opts) => c.deleteTrack(request, md, opts));
    return { replayed: response.replayed };
  }
}

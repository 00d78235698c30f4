import { Inject, Injectable } from '@nestjs/common';
import type { metadataV1 } from '@overture/contracts';
import type { CallContext } from './call-context.js';
import { METADATA_DOWNSTREAM } from './downstream.tokens.js';
import type { Downstream } from './downstream.js';
import { required } from './required.js';

/** Most ids the metadata service takes in one BatchGetTracks. */
const METADATA_BATCH_LIMIT = 100;

/** The metadata (catalogue) service, as the gateway uses it. */
@Injectable()
export class MetadataClient {
  constructor(@Inject(METADATA_DOWNSTREAM) private readonly metadata: Downstream<metadataV1.MetadataServiceClient>) {}

  async getTrack(ctx: CallContext, trackId: string): Promise<metadataV1.Track> {
    const response = await this.metadata.call(ctx, (c, md, opts) => c.getTrack({ trackId }, md, opts));
    return required(response.track, 'metadata', 'the track');
  }

  /** Tracks in the order asked (ids beyond one batch are fetched in parallel batches), and the unknown ids. */
  async batchGetTracks(ctx: CallContext, trackIds: readonly string[]): Promise<metadataV1.BatchGetTracksResponse> {
    if (trackIds.length === 0) return { tracks: [], missingTrackIds: [] };
    const batches: string[][] = [];
    for (let i = 0; i < trackIds.length; i += METADATA_BATCH_LIMIT) batches.push(trackIds.slice(i, i + METADATA_BATCH_LIMIT));
    const responses = await Promise.all(
      batches.map((ids) => this.metadata.call(ctx, (c, md, opts) => c.batchGetTracks({ trackIds: ids }, md, opts))),
    );
    return {
      tracks: responses.flatMap((r) => r.tracks),
      missingTrackIds: [...new Set(responses.flatMap((r) => r.missingTrackIds))],
    };
  }

  searchTracks(ctx: CallContext, request: metadataV1.SearchTracksRequest): Promise<metadataV1.SearchTracksResponse> {
    return this.metadata.call(ctx, (c, md, opts) => c.searchTracks(request, md, opts));
  }
}

import type { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { METADATA_V1, metadataV1 } from '@overture/contracts';
import { callMetadata, createGrpcClient, unary, withDeadline, type GrpcClientHandle, type TransportSecurity } from '@overture/grpc';
import { type CallPolicy, createCallPolicy, mapWithConcurrency } from '@overture/resilience';
import type { Observable } from 'rxjs';
import { Catalogue, type CatalogueSearch } from './catalogue.js';
import type { TrackFeatures } from './track-features.js';

export interface MetadataCatalogueOptions {
  url: string;
  transport: TransportSecurity;
  deadlineMs: number;
}

export const METADATA_CATALOGUE_OPTIONS = Symbol('METADATA_CATALOGUE_OPTIONS');

/** BatchGetTracks takes at most this many ids per call. */
const BATCH_LIMIT = 100;
// Batches of one request in flight at once, so a large sync takes a few of metadata's slots, not one per batch.
const BATCHES_IN_FLIGHT = 4;

/** The catalogue read from the metadata service over gRPC, every call with a deadline. */
@Injectable()
export class MetadataCatalogueClient extends Catalogue implements OnApplicationShutdown {
  private readonly client: GrpcClientHandle<metadataV1.MetadataServiceClient>;
  // When metadata is down, fail fast instead of spending a full deadline on every request.
  private readonly policy: CallPolicy = createCallPolicy({
    name: 'metadata',
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 5_000 },
  });

  constructor(@Inject(METADATA_CATALOGUE_OPTIONS) private readonly options: MetadataCatalogueOptions) {
    super();
    this.client = createGrpcClient<metadataV1.MetadataServiceClient>({
      contract: METADATA_V1,
      serviceName: 'MetadataService',
      url: options.url,
      transport: options.transport,
    });
  }

  async getFeatures(trackIds: readonly string[]): Promise<TrackFeatures[]> {
    const ids = [...new Set(trackIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += BATCH_LIMIT) chunks.push(ids.slice(i, i + BATCH_LIMIT));
    const responses = await mapWithConcurrency(chunks, BATCHES_IN_FLIGHT, (chunk) =>
      this.call((md) => this.client.service.batchGetTracks({ trackIds: chunk }, md, this.deadline())),
    );
    return responses.flatMap((response) => response.tracks.map(toFeatures));
  }

  async search(search: CatalogueSearch): Promise<TrackFeatures[]> {
    const request: metadataV1.SearchTracksRequest = {
      query: '',
      genre: search.genre ?? '',
      mood: '',
      language: '',
      limit: search.limit,
      cursor: '',
    };
    const response = await this.call((md) => this.client.service.searchTracks(request, md, this.deadline()));
    return response.tracks.map(toFeatures);
  }

  onApplicationShutdown(): void {
    this.client.close();
  }

  private call<T>(send: (md: Metadata) => Observable<T>): Promise<T> {
    return this.policy.execute(() => unary(send(callMetadata())));
  }

  private deadline(): ReturnType<typeof withDeadline> {
    return withDeadline(this.options.deadlineMs);
  }
}

function toFeatures(track: metadataV1.Track): TrackFeatures {
  return {
    trackId: track.trackId,
    genres: track.attributes?.genres ?? [],
    moods: track.attributes?.moods ?? [],
    language: track.attributes?.language ?? '',
    bpm: track.attributes?.bpm ?? 0,
    popularity: track.popularity,
  };
}

import { Controller, Inject } from '@nestjs/common';
import { metadataV1 } from '@overture/contracts';
import { callSignal, parseRequest, type CancellableCall } from '@overture/grpc';
import type { Metadata } from '@grpc/grpc-js';
import { SearchService } from './search/search.service.js';
import { toProto } from './tracks/track.proto-mapper.js';
import { batchGetTracksSchema, getTrackSchema, searchTracksSchema } from './tracks/track.schemas.js';
import { TrackService } from './tracks/track.service.js';
import { AllowAnonymous, Callers } from '@overture/identity';

// Catalogue reads serve the gateway (which checks catalogue:read) and other services without a
// user (track lookups, feature sync), so they need no token; writes are in CatalogueGrpcController.
@AllowAnonymous()
@Callers('api-gateway', 'playback-queue', 'recommendation')
@Controller()
@metadataV1.MetadataServiceControllerMethods()
export class MetadataGrpcController implements metadataV1.MetadataServiceController {
  constructor(
    @Inject(TrackService) private readonly tracks: TrackService,
    @Inject(SearchService) private readonly searches: SearchService,
  ) {}

  async getTrack(request: metadataV1.GetTrackRequest): Promise<metadataV1.GetTrackResponse> {
    const { trackId } = parseRequest(getTrackSchema, request);
    return { track: toProto(await this.tracks.getTrack(trackId)) };
  }

  async batchGetTracks(request: metadataV1.BatchGetTracksRequest): Promise<metadataV1.BatchGetTracksResponse> {
    const { trackIds } = parseRequest(batchGetTracksSchema, request);
    const result = await this.tracks.batchGet(trackIds);
    return { tracks: result.tracks.map(toProto), missingTrackIds: result.missingIds };
  }

  async searchTracks(
    request: metadataV1.SearchTracksRequest,
    _metadata?: Metadata,
    call?: CancellableCall,
  ): Promise<metadataV1.SearchTracksResponse> {
    const o = request.options;
    const flat = {
      ...request,
      genres: o?.genres ?? [],
      moods: o?.moods ?? [],
      tags: o?.tags ?? [],
      minYear: o?.minYear ?? undefined,
      maxYear: o?.maxYear ?? undefined,
      minEnergy: o?.minEnergy ?? undefined,
      maxEnergy: o?.maxEnergy ?? undefined,
      explicit: o?.explicit ?? undefined,
      sort: o?.sort ?? '',
      facets: o?.facets ?? [],
      key: o?.key ?? '',
      mode: o?.mode ?? '',
      vocalType: o?.vocalType ?? '',
      minBpm: request.minBpm ?? undefined,
      maxBpm: request.maxBpm ?? undefined,
    };
    // A search past its caller's deadline stops: a walk without its index (during a bulk load) could
    // otherwise run on for statement_timeout, holding a pooled connection.
    const page = await this.searches.search(parseRequest(searchTracksSchema, flat), callSignal(call));
    return {
      tracks: page.tracks.map(toProto),
      nextCursor: page.nextCursor,
      info: { partial: page.partial, facets: page.facets },
    };
  }
}

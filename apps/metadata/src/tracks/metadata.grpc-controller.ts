import { Controller, Inject } from '@nestjs/common';
import { metadataV1 } from '@overture/contracts';
import { parseRequest } from '@overture/grpc';
import { batchGetTracksSchema, getTrackSchema, searchTracksSchema } from './track.schemas.js';
import { TrackService } from './track.service.js';
import type { Track } from './track.js';

@Controller()
@metadataV1.MetadataServiceControllerMethods()
export class MetadataGrpcController implements metadataV1.MetadataServiceController {
  constructor(@Inject(TrackService) private readonly tracks: TrackService) {}

  async getTrack(request: metadataV1.GetTrackRequest): Promise<metadataV1.GetTrackResponse> {
    const { trackId } = parseRequest(getTrackSchema, request);
    return { track: toProto(await this.tracks.getTrack(trackId)) };
  }

  async batchGetTracks(request: metadataV1.BatchGetTracksRequest): Promise<metadataV1.BatchGetTracksResponse> {
    const { trackIds } = parseRequest(batchGetTracksSchema, request);
    const result = await this.tracks.batchGet(trackIds);
    return { tracks: result.tracks.map(toProto), missingTrackIds: result.missingIds };
  }

  async searchTracks(request: metadataV1.SearchTracksRequest): Promise<metadataV1.SearchTracksResponse> {
    const page = await this.tracks.search(parseRequest(searchTracksSchema, request));
    return { tracks: page.tracks.map(toProto), nextCursor: page.nextCursor };
  }
}

function toProto(track: Track): metadataV1.Track {
  return {
    trackId: track.id,
    title: track.title,
    artistName: track.artistName,
    albumTitle: track.albumTitle,
    durationMs: track.durationMs,
    isrc: track.isrc,
    releaseYear: track.releaseYear,
    popularity: track.popularity,
    explicit: track.explicit,
    attributes: track.attributes,
  };
}

import { Controller, Inject } from '@nestjs/common';
import { metadataV1 } from '@overture/contracts';
import { callSignal, parseRequest, type CancellableCall } from '@overture/grpc';
import type { Metadata } from '@grpc/grpc-js';
import { z } from 'zod';
import { ATTRIBUTE_SPECS } from './catalogue/attribute-vocabulary.js';
import { trackInputSchema } from './catalogue/track-input.schema.js';
import { albumToProto, fromProtoInput, toProto } from './tracks/track.proto-mapper.js';
import { entityId, getAlbumSchema, getArtistSchema } from './tracks/track.schemas.js';
import type { Track } from './tracks/track.js';
import { TrackService } from './tracks/track.service.js';
import { CurationService } from './curation/curation.service.js';
import { IdempotentCalls, idempotencyKeyField } from '@overture/idempotency';
import { AllowAnonymous, Callers, principalOf, RequirePermission } from '@overture/identity';

const createTrackSchema = z.object({ idempotencyKey: idempotencyKeyField });
const updateTrackSchema = z.object({
  trackId: entityId('a track'),
  expectedVersion: z.number().int().min(1, 'must be the version you read (1 or more)'),
  idempotencyKey: idempotencyKeyField,
});
const deleteTrackSchema = z.object({
  trackId: entityId('a track'),
  expectedVersion: z.number().int().min(0, 'must be 0 (any) or the version you read'),
  idempotencyKey: idempotencyKeyField,
});
const listChangesSchema = z.object({
  cursor: z.string().max(200, 'at most 200 characters'),
  limit: z.number().int().min(0).max(1000, 'at most 1000'),
});

/** Catalogue pages, curator writes and the change feed (CatalogueService). */
@Callers('api-gateway')
@Controller()
@metadataV1.CatalogueServiceControllerMethods()
export class CatalogueGrpcController implements metadataV1.CatalogueServiceController {
  constructor(
    @Inject(TrackService) private readonly tracks: TrackService,
    @Inject(CurationService) private readonly curation: CurationService,
    @Inject(IdempotentCalls) private readonly calls: IdempotentCalls,
  ) {}

  @AllowAnonymous()
  getAttributes(): metadataV1.GetAttributesResponse {
    return { attributes: ATTRIBUTE_SPECS.map((a) => ({ ...a, values: [...a.values] })) };
  }

  @AllowAnonymous()
  async getArtist(
    request: metadataV1.GetArtistRequest,
    _metadata?: Metadata,
    call?: CancellableCall,
  ): Promise<metadataV1.GetArtistResponse> {
    const { artistId, limit, cursor } = parseRequest(getArtistSchema, request);
    const page = await this.tracks.artistPage(artistId, limit, cursor, callSignal(call));
    return {
      artist: { artistId: page.artist.id, name: page.artist.name, trackCount: page.artist.trackCount },
      albums: page.albums.map(albumToProto),
      tracks: page.tracks.map(toProto),
      nextCursor: page.nextCursor,
    };
  }

  @AllowAnonymous()
  async getAlbum(request: metadataV1.GetAlbumRequest, _metadata?: Metadata, call?: CancellableCall): Promise<metadataV1.GetAlbumResponse> {
    const { albumId } = parseRequest(getAlbumSchema, request);
    const page = await this.tracks.albumPage(albumId, callSignal(call));
    return { album: albumToProto(page.album), tracks: page.tracks.map(toProto) };
  }

  // A curator's keys are their own (the token's subject), one set per method.
  @RequirePermission('catalogue:write')
  async createTrack(request: metadataV1.CreateTrackRequest, metadata: Metadata): Promise<metadataV1.CreateTrackResponse> {
    const { idempotencyKey } = parseRequest(createTrackSchema, request);
    const input = parseRequest(trackInputSchema, fromProtoInput(request.track));
    const call = { key: idempotencyKey, scope: principalOf(metadata).userId, operation: 'CreateTrack', request: input };
    return this.calls.run(call, toTrackResponse, (keyed) => this.curation.create(input, keyed));
  }

  @RequirePermission('catalogue:write')
  async updateTrack(request: metadataV1.UpdateTrackRequest, metadata: Metadata): Promise<metadataV1.UpdateTrackResponse> {
    const { trackId, expectedVersion, idempotencyKey } = parseRequest(updateTrackSchema, request);
    const input = parseRequest(trackInputSchema, fromProtoInput(request.track));
    const call = {
      key: idempotencyKey,
      scope: principalOf(metadata).userId,
      operation: 'UpdateTrack',
      request: { trackId, expectedVersion, input },
    };
    return this.calls.run(call, toTrackResponse, (keyed) => this.curation.update(trackId, expectedVersion, input, keyed));
  }

  @RequirePermission('catalogue:write')
  async deleteTrack(request: metadataV1.DeleteTrackRequest, metadata: Metadata): Promise<metadataV1.DeleteTrackResponse> {
    const { trackId, expectedVersion, idempotencyKey } = parseRequest(deleteTrackSchema, request);
    const call = {
      key: idempotencyKey,
      scope: principalOf(metadata).userId,
      operation: 'DeleteTrack',
      request: { trackId, expectedVersion },
    };
    return this.calls.run(
      call,
      () => ({}),
      (keyed) => this.curation.delete(trackId, expectedVersion, keyed),
    );
  }

  // The change feed is for the service that keeps a copy of the catalogue (recommendation's features).
  @Callers('recommendation')
  @AllowAnonymous()
  async listChanges(request: metadataV1.ListChangesRequest): Promise<metadataV1.ListChangesResponse> {
    const { cursor, limit } = parseRequest(listChangesSchema, request);
    const page = await this.curation.changes(cursor, limit || 100);
    return {
      changes: page.changes.map((c) => ({
        trackId: c.trackId,
        kind: c.kind,
        version: c.version,
        changedAt: c.changedAt,
        track: c.track && toProto(c.track),
      })),
      nextCursor: page.nextCursor,
    };
  }
}

const toTrackResponse = (track: Track): { track: metadataV1.Track } => ({ track: toProto(track) });

import { Inject, Injectable } from '@nestjs/common';
import type {
  AlbumPageView,
  ArtistView,
  AttributesView,
  PageQuery,
  SearchQuery,
  SearchView,
  TrackBody,
  TrackView,
  TracksView,
} from '@overture/gateway-contract';
import type { CallContext } from '../downstream/call-context.js';
import type { Written } from '../http/idempotency-key.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import {
  toAlbumPageView,
  toArtistView,
  toAttributesView,
  toSearchRequest,
  toSearchView,
  toTrackInput,
  toTrackView,
} from './catalogue.mapper.js';

/** The catalogue as clients see it: reads for listeners, track writes for curators. */
@Injectable()
export class CatalogueService {
  constructor(@Inject(MetadataClient) private readonly metadata: MetadataClient) {}

  async track(ctx: CallContext, trackId: string): Promise<TrackView> {
    return toTrackView(await this.metadata.getTrack(ctx, trackId));
  }

  async tracks(ctx: CallContext, trackIds: readonly string[]): Promise<TracksView> {
    const result = await this.metadata.batchGetTracks(ctx, trackIds);
    return { tracks: result.tracks.map(toTrackView), missing_ids: result.missingTrackIds };
  }

  async search(ctx: CallContext, query: SearchQuery): Promise<SearchView> {
    return toSearchView(await this.metadata.searchTracks(ctx, toSearchRequest(query)));
  }

  async attributes(ctx: CallContext): Promise<AttributesView> {
    return toAttributesView(await this.metadata.getAttributes(ctx));
  }

  async artist(ctx: CallContext, artistId: string, page: PageQuery): Promise<ArtistView> {
    return toArtistView(await this.metadata.getArtist(ctx, { artistId, limit: page.limit, cursor: page.cursor ?? '' }));
  }

  async album(ctx: CallContext, albumId: string): Promise<AlbumPageView> {
    return toAlbumPageView(await this.metadata.getAlbum(ctx, albumId));
  }

  async createTrack(ctx: CallContext, body: TrackBody, key: string | undefined): Promise<Written<TrackView>> {
    const { track, replayed } = await this.metadata.createTrack(ctx, { track: toTrackInput(body), idempotencyKey: key });
    return { view: toTrackView(track), replayed };
  }

  async updateTrack(
    ctx: CallContext,
    trackId: string,
    expectedVersion: number,
    body: TrackBody,
    key: string | undefined,
  ): Promise<Written<TrackView>> {
    const request = { trackId, expectedVersion, track: toTrackInput(body), idempotencyKey: key };
    const { track, replayed } = await this.metadata.updateTrack(ctx, request);
    return { view: toTrackView(track), replayed };
  }

  async deleteTrack(ctx: CallContext, trackId: string, expectedVersion: number, key: string | undefined): Promise<Written<undefined>> {
    const { replayed } = await this.metadata.deleteTrack(ctx, { trackId, expectedVersion, idempotencyKey: key });
    return { view: undefined, replayed };
  }
}

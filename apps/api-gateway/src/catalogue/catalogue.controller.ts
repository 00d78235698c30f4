import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MetadataReason, type metadataV1 } from '@overture/contracts';
import { RequirePermission } from '@overture/identity';
import type { CallContext } from '../downstream/call-context.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import { required } from '../downstream/required.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx, HeaderParam } from '../http/request-params.js';
import {
  albumPageViewSchema,
  artistViewSchema,
  attributesViewSchema,
  entityParamsSchema,
  pageQuerySchema,
  searchQuerySchema,
  searchViewSchema,
  toAlbumView,
  toTrackInput,
  trackBodySchema,
  trackParamsSchema,
  tracksQuerySchema,
  tracksViewSchema,
  trackVersionSchema,
  type AlbumPageView,
  type ArtistView,
  type AttributesView,
  type EntityParams,
  type PageQuery,
  type SearchQuery,
  type SearchView,
  type TrackBody,
  type TrackParams,
  type TracksQuery,
  type TracksView,
} from './catalogue.schemas.js';
import { toTrackView, trackViewSchema, type TrackView } from './track.view.js';

@ApiTags('catalogue')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
// Reads need catalogue:read; the write routes override it with catalogue:write.
@RequirePermission('catalogue:read')
@Controller('v1')
export class CatalogueController {
  constructor(@Inject(MetadataClient) private readonly metadata: MetadataClient) {}

  @Get('tracks/:id')
  @ApiOperation({ summary: 'One track' })
  @ApiResponse({ status: 200, description: 'The track', standardSchema: trackViewSchema })
  @ApiErrors(400, 401, [404, MetadataReason.TRACK_NOT_FOUND], 503, 504)
  async track(@Param({ schema: trackParamsSchema }) params: TrackParams, @CallCtx() ctx: CallContext): Promise<TrackView> {
    return toTrackView(await this.metadata.getTrack(ctx, params.id));
  }

  @Get('tracks')
  @ApiOperation({ summary: 'Several tracks by id' })
  @ApiResponse({ status: 200, description: 'The tracks found and the ids not found', standardSchema: tracksViewSchema })
  @ApiErrors(400, 401, 503, 504)
  async tracks(@Query({ schema: tracksQuerySchema }) query: TracksQuery, @CallCtx() ctx: CallContext): Promise<TracksView> {
    const result = await this.metadata.batchGetTracks(ctx, query.ids);
    return { tracks: result.tracks.map(toTrackView), missing_ids: result.missingTrackIds };
  }

  @Get('search')
  @ApiOperation({
    summary: 'Search the catalogue by text and attributes',
    description: 'Text (prefix, fuzzy, CJK), filters, sorts, facet counts; page with next_cursor.',
  })
  @ApiResponse({ status: 200, description: 'One page of results', standardSchema: searchViewSchema })
  @ApiErrors([400, MetadataReason.INVALID_CURSOR], 401, 503, 504)
  async search(@Query({ schema: searchQuerySchema }) query: SearchQuery, @CallCtx() ctx: CallContext): Promise<SearchView> {
    return this.find(ctx, query);
  }

  @Get('browse/tracks')
  @ApiOperation({ summary: 'Browse tracks by attributes', description: 'The same filters, sorts and facets as search; text is optional.' })
  @ApiResponse({ status: 200, description: 'One page of results', standardSchema: searchViewSchema })
  @ApiErrors([400, MetadataReason.INVALID_CURSOR], 401, 503, 504)
  async browse(@Query({ schema: searchQuerySchema }) query: SearchQuery, @CallCtx() ctx: CallContext): Promise<SearchView> {
    return this.find(ctx, query);
  }

  @Get('attributes')
  @ApiOperation({ summary: 'The attribute vocabulary and numeric ranges filters and writes accept' })
  @ApiResponse({ status: 200, description: 'Every attribute', standardSchema: attributesViewSchema })
  @ApiErrors(401, 503, 504)
  async attributes(@CallCtx() ctx: CallContext): Promise<AttributesView> {
    const { attributes } = await this.metadata.getAttributes(ctx);
    return { attributes: attributes.map((a) => ({ ...a, type: a.type as AttributesView['attributes'][number]['type'] })) };
  }

  @Get('artists/:id')
  @ApiOperation({ summary: 'An artist, their albums and a page of their tracks (most popular first)' })
  @ApiResponse({ status: 200, description: 'The artist page', standardSchema: artistViewSchema })
  @ApiErrors([400, MetadataReason.INVALID_CURSOR], 401, [404, MetadataReason.ARTIST_NOT_FOUND], 503, 504)
  async artist(
    @Param({ schema: entityParamsSchema }) params: EntityParams,
    @Query({ schema: pageQuerySchema }) query: PageQuery,
    @CallCtx() ctx: CallContext,
  ): Promise<ArtistView> {
    const page = await this.metadata.getArtist(ctx, { artistId: params.id, limit: query.limit, cursor: query.cursor ?? '' });
    const artist = required(page.artist, 'metadata', 'the artist');
    return {
      id: artist.artistId,
      name: artist.name,
      track_count: artist.trackCount,
      albums: page.albums.map(toAlbumView),
      tracks: page.tracks.map(toTrackView),
      next_cursor: page.nextCursor || null,
    };
  }

  @Get('albums/:id')
  @ApiOperation({ summary: 'An album and its tracks' })
  @ApiResponse({ status: 200, description: 'The album page', standardSchema: albumPageViewSchema })
  @ApiErrors(400, 401, [404, MetadataReason.ALBUM_NOT_FOUND], 503, 504)
  async album(@Param({ schema: entityParamsSchema }) params: EntityParams, @CallCtx() ctx: CallContext): Promise<AlbumPageView> {
    const page = await this.metadata.getAlbum(ctx, params.id);
    return { album: toAlbumView(required(page.album, 'metadata', 'the album')), tracks: page.tracks.map(toTrackView) };
  }

  @Post('tracks')
  @HttpCode(201)
  @RequirePermission('catalogue:write')
  @ApiOperation({ summary: 'Add a track (curators)' })
  @ApiResponse({ status: 201, description: 'The new track', standardSchema: trackViewSchema })
  @ApiErrors(400, 401, 403, [409, MetadataReason.ISRC_TAKEN], 503, 504)
  async createTrack(@Body({ schema: trackBodySchema }) body: TrackBody, @CallCtx() ctx: CallContext): Promise<TrackView> {
    return toTrackView(await this.metadata.createTrack(ctx, toTrackInput(body)));
  }

  @Put('tracks/:id')
  @RequirePermission('catalogue:write')
  @ApiOperation({ summary: 'Replace a track (curators)', description: 'If-Match carries the version the change is based on.' })
  @ApiResponse({ status: 200, description: 'The track after the change', standardSchema: trackViewSchema })
  @ApiErrors(
    400,
    401,
    403,
    [404, MetadataReason.TRACK_NOT_FOUND],
    [409, MetadataReason.VERSION_CONFLICT, MetadataReason.ISRC_TAKEN],
    503,
    504,
  )
  async updateTrack(
    @Param({ schema: trackParamsSchema }) params: TrackParams,
    @Body({ schema: trackBodySchema }) body: TrackBody,
    @HeaderParam('If-Match', trackVersionSchema) expectedVersion: number,
    @CallCtx() ctx: CallContext,
  ): Promise<TrackView> {
    return toTrackView(await this.metadata.updateTrack(ctx, { trackId: params.id, expectedVersion, track: toTrackInput(body) }));
  }

  @Delete('tracks/:id')
  @HttpCode(204)
  @RequirePermission('catalogue:write')
  @ApiOperation({ summary: 'Delete a track (curators)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 401, 403, [404, MetadataReason.TRACK_NOT_FOUND], [409, MetadataReason.VERSION_CONFLICT], 503, 504)
  async deleteTrack(
    @Param({ schema: trackParamsSchema }) params: TrackParams,
    @HeaderParam('If-Match', trackVersionSchema) expectedVersion: number,
    @CallCtx() ctx: CallContext,
  ): Promise<void> {
    await this.metadata.deleteTrack(ctx, params.id, expectedVersion);
  }

  private async find(ctx: CallContext, query: SearchQuery): Promise<SearchView> {
    const request: metadataV1.SearchTracksRequest = {
      query: query.q,
      genre: query.genre ?? '',
      mood: query.mood ?? '',
      language: query.language ?? '',
      minBpm: query.min_bpm,
      maxBpm: query.max_bpm,
      limit: query.limit,
      cursor: query.cursor ?? '',
      options: {
        genres: query.genres ?? [],
        moods: query.moods ?? [],
        tags: query.tags ?? [],
        minYear: query.min_year,
        maxYear: query.max_year,
        minEnergy: query.min_energy,
        maxEnergy: query.max_energy,
        explicit: query.explicit,
        sort: query.sort ?? '',
        facets: query.facets ?? [],
        key: query.key ?? '',
        mode: query.mode ?? '',
        vocalType: query.vocal_type ?? '',
      },
    };
    const page = await this.metadata.searchTracks(ctx, request);
    return {
      tracks: page.tracks.map(toTrackView),
      next_cursor: page.nextCursor || null,
      partial: page.info?.partial ?? false,
      facets: (page.info?.facets ?? []).map((f) => ({ name: f.name, values: f.values, exact: f.exact, error_margin: f.errorMargin })),
    };
  }
}

import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MetadataReason } from '@overture/contracts';
import { RequirePermission } from '@overture/identity';
import {
  albumPageViewSchema,
  artistViewSchema,
  attributesViewSchema,
  entityParamsSchema,
  pageQuerySchema,
  searchQuerySchema,
  searchViewSchema,
  trackBodySchema,
  trackParamsSchema,
  tracksQuerySchema,
  tracksViewSchema,
  trackVersionSchema,
  trackViewSchema,
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
  type TrackView,
} from '@overture/gateway-contract';
import type { CallContext } from '../downstream/call-context.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { answer, IdempotencyKey } from '../http/idempotency-key.js';
import { ApiRequestTimeoutHeader, CallCtx, HeaderParam } from '../http/request-params.js';
import { CatalogueService } from './catalogue.service.js';

@ApiTags('catalogue')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
// Reads need catalogue:read; the write routes override it with catalogue:write.
@RequirePermission('catalogue:read')
@Controller('v1')
export class CatalogueController {
  constructor(@Inject(CatalogueService) private readonly catalogue: CatalogueService) {}

  @Get('tracks/:id')
  @ApiOperation({ summary: 'One track' })
  @ApiResponse({ status: 200, description: 'The track', standardSchema: trackViewSchema })
  @ApiErrors(400, 401, [404, MetadataReason.TRACK_NOT_FOUND], 503, 504)
  async track(@Param({ schema: trackParamsSchema }) params: TrackParams, @CallCtx() ctx: CallContext): Promise<TrackView> {
    return this.catalogue.track(ctx, params.id);
  }

  @Get('tracks')
  @ApiOperation({ summary: 'Several tracks by id' })
  @ApiResponse({ status: 200, description: 'The tracks found and the ids not found', standardSchema: tracksViewSchema })
  @ApiErrors(400, 401, 503, 504)
  async tracks(@Query({ schema: tracksQuerySchema }) query: TracksQuery, @CallCtx() ctx: CallContext): Promise<TracksView> {
    return this.catalogue.tracks(ctx, query.ids);
  }

  @Get('search')
  @ApiOperation({
    summary: 'Search the catalogue by text and attributes',
    description: 'Text (prefix, fuzzy, CJK), filters, sorts, facet counts; page with next_cursor.',
  })
  @ApiResponse({ status: 200, description: 'One page of results', standardSchema: searchViewSchema })
  @ApiErrors([400, MetadataReason.INVALID_CURSOR], 401, 503, 504)
  async search(@Query({ schema: searchQuerySchema }) query: SearchQuery, @CallCtx() ctx: CallContext): Promise<SearchView> {
    return this.catalogue.search(ctx, query);
  }

  @Get('browse/tracks')
  @ApiOperation({ summary: 'Browse tracks by attributes', description: 'The same filters, sorts and facets as search; text is optional.' })
  @ApiResponse({ status: 200, description: 'One page of results', standardSchema: searchViewSchema })
  @ApiErrors([400, MetadataReason.INVALID_CURSOR], 401, 503, 504)
  async browse(@Query({ schema: searchQuerySchema }) query: SearchQuery, @CallCtx() ctx: CallContext): Promise<SearchView> {
    return this.catalogue.search(ctx, query);
  }

  @Get('attributes')
  @ApiOperation({ summary: 'The attribute vocabulary and numeric ranges filters and writes accept' })
  @ApiResponse({ status: 200, description: 'Every attribute', standardSchema: attributesViewSchema })
  @ApiErrors(401, 503, 504)
  async attributes(@CallCtx() ctx: CallContext): Promise<AttributesView> {
    return this.catalogue.attributes(ctx);
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
    return this.catalogue.artist(ctx, params.id, query);
  }

  @Get('albums/:id')
  @ApiOperation({ summary: 'An album and its tracks' })
  @ApiResponse({ status: 200, description: 'The album page', standardSchema: albumPageViewSchema })
  @ApiErrors(400, 401, [404, MetadataReason.ALBUM_NOT_FOUND], 503, 504)
  async album(@Param({ schema: entityParamsSchema }) params: EntityParams, @CallCtx() ctx: CallContext): Promise<AlbumPageView> {
    return this.catalogue.album(ctx, params.id);
  }

  @Post('tracks')
  @HttpCode(201)
  @RequirePermission('catalogue:write')
  @ApiOperation({ summary: 'Add a track (curators)' })
  @ApiResponse({ status: 201, description: 'The new track', standardSchema: trackViewSchema })
  @ApiErrors(400, 401, 403, [409, MetadataReason.ISRC_TAKEN], 422, 503, 504)
  async createTrack(
    @Body({ schema: trackBodySchema }) body: TrackBody,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TrackView> {
    return answer(reply, await this.catalogue.createTrack(ctx, body, key));
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
    422,
    503,
    504,
  )
  async updateTrack(
    @Param({ schema: trackParamsSchema }) params: TrackParams,
    @Body({ schema: trackBodySchema }) body: TrackBody,
    @HeaderParam('If-Match', trackVersionSchema) expectedVersion: number,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TrackView> {
    return answer(reply, await this.catalogue.updateTrack(ctx, params.id, expectedVersion, body, key));
  }

  @Delete('tracks/:id')
  @HttpCode(204)
  @RequirePermission('catalogue:write')
  @ApiOperation({ summary: 'Delete a track (curators)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(400, 401, 403, [404, MetadataReason.TRACK_NOT_FOUND], [409, MetadataReason.VERSION_CONFLICT], 422, 503, 504)
  async deleteTrack(
    @Param({ schema: trackParamsSchema }) params: TrackParams,
    @HeaderParam('If-Match', trackVersionSchema) expectedVersion: number,
    @CallCtx() ctx: CallContext,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    answer(reply, await this.catalogue.deleteTrack(ctx, params.id, expectedVersion, key));
  }
}

import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { CallContext } from '../downstream/call-context.js';
import { MetadataClient } from '../downstream/metadata.client.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx } from '../http/request-params.js';
import {
  searchQuerySchema,
  searchViewSchema,
  trackParamsSchema,
  tracksQuerySchema,
  tracksViewSchema,
  type SearchQuery,
  type SearchView,
  type TrackParams,
  type TracksQuery,
  type TracksView,
} from './catalogue.schemas.js';
import { toTrackView, trackViewSchema, type TrackView } from './track.view.js';

@ApiTags('catalogue')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
@Controller('v1')
export class CatalogueController {
  constructor(@Inject(MetadataClient) private readonly metadata: MetadataClient) {}

  @Get('tracks/:id')
  @ApiOperation({ summary: 'One track' })
  @ApiResponse({ status: 200, description: 'The track', standardSchema: trackViewSchema })
  @ApiErrors(400, 401, 404, 503, 504)
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
  @ApiOperation({ summary: 'Search the catalogue by text and attributes', description: 'Most popular first; page with next_cursor.' })
  @ApiResponse({ status: 200, description: 'One page of results', standardSchema: searchViewSchema })
  @ApiErrors(400, 401, 503, 504)
  async search(@Query({ schema: searchQuerySchema }) query: SearchQuery, @CallCtx() ctx: CallContext): Promise<SearchView> {
    const page = await this.metadata.searchTracks(ctx, {
      query: query.q,
      genre: query.genre ?? '',
      mood: query.mood ?? '',
      language: query.language ?? '',
      minBpm: query.min_bpm,
      maxBpm: query.max_bpm,
      limit: query.limit,
      cursor: query.cursor ?? '',
    });
    return { tracks: page.tracks.map(toTrackView), next_cursor: page.nextCursor || null };
  }
}

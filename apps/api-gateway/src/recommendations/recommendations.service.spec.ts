import { status } from '@grpc/grpc-js';
import type { metadataV1, recommendationV1 } from '@overture/contracts';
import { describe, expect, it, vi } from 'vitest';
import type { CallContext } from '../downstream/call-context.js';
import { DownstreamError } from '../downstream/downstream-error.js';
import type { MetadataClient } from '../downstream/metadata.client.js';
import type { RecommendationClient } from '../downstream/recommendation.client.js';
import { RecommendationsService } from './recommendations.service.js';

const ctx: CallContext = { requestId: 'req-1' };
const USER = '5d1c0b8e-2f7a-4e3b-9c6d-1a2b3c4d5e6f';

function track(id: string, popularity: number): metadataV1.Track {
  return {
    trackId: id,
    title: `t${id}`,
    artistName: 'a',
    albumTitle: 'b',
    durationMs: 1,
    isrc: `I${id}`,
    releaseYear: 2000,
    popularity,
    explicit: false,
    attributes: { genres: [], moods: [], language: 'en', bpm: 100, energy: 0, valence: 0, danceability: 0, tags: [] },
  };
}

const popularPage: metadataV1.SearchTracksResponse = { tracks: [track('p1', 99), track('p2', 80)], nextCursor: 'next' };

function setup(recommend: () => Promise<recommendationV1.GetRecommendationsResponse>, metadataDown = false) {
  const recommendation = { getRecommendations: vi.fn(recommend) } satisfies Pick<RecommendationClient, 'getRecommendations'>;
  const down = () => Promise.reject(new DownstreamError('metadata', status.UNAVAILABLE, undefined, 'connection refused'));
  const metadata = {
    batchGetTracks: vi.fn((_ctx: CallContext, ids: readonly string[]): Promise<metadataV1.BatchGetTracksResponse> =>
      metadataDown
        ? down()
        : Promise.resolve({ tracks: ids.filter((id) => id !== 'gone').map((id) => track(id, 50)), missingTrackIds: [] }),
    ),
    searchTracks: vi.fn((): Promise<metadataV1.SearchTracksResponse> => (metadataDown ? down() : Promise.resolve(popularPage))),
  } satisfies Pick<MetadataClient, 'batchGetTracks' | 'searchTracks'>;
  const service = new RecommendationsService(recommendation as unknown as RecommendationClient, metadata as unknown as MetadataClient);
  return { service, recommendation, metadata };
}

const failing = (code: status) => () => Promise.reject(new DownstreamError('recommendation', code, undefined, 'details'));

describe('RecommendationsService', () => {
  it('resolves personal recommendations to tracks, in order, dropping tracks no longer in the catalogue', async () => {
    const { service, metadata } = setup(() =>
      Promise.resolve({
        strategy: 'personalised',
        tracks: [
          { trackId: 'a', score: 0.9, reason: 'co_played' },
          { trackId: 'gone', score: 0.8, reason: 'co_played' },
          { trackId: 'b', score: 0.7, reason: 'shared_attributes' },
        ],
      }),
    );
    const result = await service.recommend(ctx, USER, 3);
    expect(result.degraded).toBe(false);
    expect(result.view.strategy).toBe('personalised');
    expect(result.view.tracks.map((t) => [t.track.id, t.score, t.reason])).toEqual([
      ['a', 0.9, 'co_played'],
      ['b', 0.7, 'shared_attributes'],
    ]);
    expect(metadata.searchTracks).not.toHaveBeenCalled();
  });

  it.each([
    ['UNAVAILABLE (down, or its circuit open)', status.UNAVAILABLE],
    ['DEADLINE_EXCEEDED', status.DEADLINE_EXCEEDED],
  ])('falls back to popular tracks when the recommendation service is %s', async (_name, code) => {
    const { service, metadata } = setup(failing(code));
    const result = await service.recommend(ctx, USER, 2);
    expect(result.degraded).toBe(true);
    expect(result.view).toEqual({
      strategy: 'fallback_popular',
      tracks: [
        expect.objectContaining({ track: expect.objectContaining({ id: 'p1' }), score: 0.99, reason: 'popular' }),
        expect.objectContaining({ track: expect.objectContaining({ id: 'p2' }), score: 0.8, reason: 'popular' }),
      ],
    });
    expect(metadata.searchTracks).toHaveBeenCalledWith(ctx, expect.objectContaining({ query: '', limit: 2, cursor: '' }));
  });

  it('does not hide an answer from the service behind the fallback', async () => {
    const { service, metadata } = setup(failing(status.INVALID_ARGUMENT));
    await expect(service.recommend(ctx, USER, 2)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(metadata.searchTracks).not.toHaveBeenCalled();
  });

  it('fails with the catalogue error when the catalogue is down too', async () => {
    const { service } = setup(failing(status.UNAVAILABLE), true);
    await expect(service.recommend(ctx, USER, 2)).rejects.toMatchObject({ service: 'metadata', code: status.UNAVAILABLE });
  });
});

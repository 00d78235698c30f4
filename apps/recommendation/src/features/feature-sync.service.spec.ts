import { describe, expect, it, vi } from 'vitest';
import type { Catalogue } from './catalogue.js';
import { FeatureSyncService } from './feature-sync.service.js';
import type { TrackFeaturesRepository } from './track-features.repository.js';
import type { TrackFeatures } from './track-features.js';

const features = (trackId: string): TrackFeatures => ({ trackId, genres: ['rock'], moods: [], language: 'en', bpm: 120, popularity: 10 });

function setUp(metadataUp: boolean, known: string[] = []) {
  const stored = new Map<string, TrackFeatures>(known.map((id) => [id, features(id)]));
  const repository = {
    missingIds: vi.fn(async (ids: readonly string[]) => ids.filter((id) => !stored.has(id))),
    upsert: vi.fn(async (found: readonly TrackFeatures[]) => void found.forEach((f) => stored.set(f.trackId, f))),
  };
  const catalogue: Catalogue = {
    getFeatures: vi.fn(async (ids: readonly string[]) => {
      if (!metadataUp) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 14 });
      return ids.filter((id) => id !== 'unknown').map(features);
    }),
    search: vi.fn(async () => []),
  };
  const sync = new FeatureSyncService(repository as unknown as TrackFeaturesRepository, catalogue);
  return { sync, stored, repository, catalogue };
}

describe('FeatureSyncService', () => {
  it('copies, in the background, the features of tracks it does not have yet', async () => {
    const { sync, stored, catalogue } = setUp(true, ['known']);
    sync.schedule(['known', 'new-1', 'new-2', 'unknown']);
    sync.schedule(['new-3']);
    await vi.waitFor(() => expect([...stored.keys()].sort()).toEqual(['known', 'new-1', 'new-2', 'new-3']));
    await sync.beforeApplicationShutdown();
    const asked = vi.mocked(catalogue.getFeatures).mock.calls.flatMap(([ids]) => ids);
    expect(asked).not.toContain('known');
  });

  it('leaves features missing, without failing, when metadata is down', async () => {
    const { sync, repository } = setUp(false);
    expect(await sync.fetchMissing(['a', 'b'])).toEqual([]);
    sync.schedule(['a']);
    await sync.beforeApplicationShutdown();
    expect(repository.upsert).not.toHaveBeenCalled();
  });
});

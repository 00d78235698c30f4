import type { EntityManager } from 'typeorm';
import { describe, expect, it, vi } from 'vitest';
import type { FeatureSyncService } from '../features/feature-sync.service.js';
import type { PlayEventRepository } from './play-event.repository.js';
import type { PlayEvent } from './play-event.js';
import type { CoPlayDelta, PlayCountDelta, TrackStatsDelta } from './play-statistics.js';
import { RecordPlayEventsUseCase } from './record-play-events.use-case.js';

const event = (eventId: string, trackId: string, kind: PlayEvent['kind'] = 'play'): PlayEvent => ({
  eventId,
  userId: 'u',
  trackId,
  kind,
  playedMs: 1000,
  occurredAt: new Date('2025-11-20T10:00:00Z'),
});

// The repository keeps event ids in memory; its SQL is covered by the medium test.
function setUp(storedIds: string[]) {
  const stored = new Set(storedIds);
  const tx = {} as EntityManager;
  const repository = {
    transaction: vi.fn(async <T>(work: (tx: EntityManager) => Promise<T>) => work(tx)),
    insertNew: vi.fn(async (_tx: EntityManager, events: readonly PlayEvent[]) => {
      const fresh = events.filter((e) => !stored.has(e.eventId)).map((e) => e.eventId);
      fresh.forEach((id) => stored.add(id));
      return new Set(fresh);
    }),
    recentPlays: vi.fn(async () => new Map([['u', ['old']]])),
    addTrackStats: vi.fn(async (_tx: EntityManager, _deltas: readonly TrackStatsDelta[]) => undefined),
    addCoPlays: vi.fn(async (_tx: EntityManager, _deltas: readonly CoPlayDelta[]) => undefined),
    addPlays: vi.fn(async (_tx: EntityManager, _deltas: readonly PlayCountDelta[]) => undefined),
  };
  const featureSync = { schedule: vi.fn() };
  const useCase = new RecordPlayEventsUseCase(repository as unknown as PlayEventRepository, featureSync as unknown as FeatureSyncService);
  return { useCase, repository, featureSync };
}

describe('RecordPlayEventsUseCase', () => {
  it('counts only new events, treating repeats within the batch as duplicates', async () => {
    const { useCase, repository, featureSync } = setUp(['seen']);
    const result = await useCase.execute([event('seen', 't1'), event('e1', 't2'), event('e1', 't2'), event('e2', 't3', 'skip')]);
    expect(result).toEqual({ accepted: 2, duplicates: 2 });
    expect(repository.addTrackStats.mock.calls[0]![1]).toEqual([
      expect.objectContaining({ trackId: 't2', plays: 1, skips: 0 }),
      expect.objectContaining({ trackId: 't3', plays: 0, skips: 1 }),
    ]);
    expect(repository.addCoPlays.mock.calls[0]![1]).toEqual([
      { trackA: 't2', trackB: 'old', count: 1 },
      { trackA: 'old', trackB: 't2', count: 1 },
    ]);
    expect(repository.addPlays.mock.calls[0]![1]).toEqual([{ trackId: 't2', plays: 1 }]);
    expect(featureSync.schedule).toHaveBeenCalledWith(['t1', 't2', 't3']);
  });

  it('moves no counter for an all-duplicate batch', async () => {
    const { useCase, repository } = setUp(['a', 'b']);
    expect(await useCase.execute([event('a', 't1'), event('b', 't2')])).toEqual({ accepted: 0, duplicates: 2 });
    expect(repository.addTrackStats).not.toHaveBeenCalled();
    expect(repository.addCoPlays).not.toHaveBeenCalled();
    expect(repository.addPlays).not.toHaveBeenCalled();
  });
});

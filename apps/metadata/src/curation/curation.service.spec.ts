import { describe, expect, it } from 'vitest';
import { TermCache } from '../cache/term-cache.js';
import { TrackCache } from '../cache/track-cache.js';
import type { TrackInput } from '../catalogue/track-input.schema.js';
import type { Track } from '../tracks/track.js';
import type { ChangeFeedRepository } from './change-feed.repository.js';
import { CurationService } from './curation.service.js';
import type { TrackWriteRepository, WriteOutcome } from './track-write.repository.js';

const ID = '6f1c2a55-0b1e-4c8e-9f57-3a7d2b1c9e10';
const version = (v: number) => ({ id: ID, title: `v${v}`, version: v }) as Track;

/** A write repository whose writes commit at once, and whose NOTIFY (the listener) never arrives. */
function setUp(outcome: WriteOutcome<Track> = { ok: true, value: version(2) }) {
  const tracks = new TrackCache(10);
  const terms = new TermCache();
  tracks.setEnabled(true);
  terms.setEnabled(true);
  const writes = {
    create: async () => outcome,
    update: async () => outcome,
    delete: async (): Promise<WriteOutcome<undefined>> => (outcome.ok ? { ok: true, value: undefined } : outcome),
  };
  const service = new CurationService(writes as unknown as TrackWriteRepository, {} as ChangeFeedRepository, tracks, terms);
  return { service, tracks, terms };
}

describe("CurationService and this replica's caches", () => {
  it('drops the cached track before an update returns, without waiting for the notification', async () => {
    const { service, tracks } = setUp();
    tracks.store([[ID, version(1)]], tracks.currentGeneration());
    await service.update(ID, 1, {} as TrackInput);
    expect(tracks.get(ID)).toBeUndefined();
  });

  it('drops the cached track before a delete returns', async () => {
    const { service, tracks } = setUp();
    tracks.store([[ID, version(1)]], tracks.currentGeneration());
    await service.delete(ID, 1);
    expect(tracks.get(ID)).toBeUndefined();
  });

  it('does not store a read that started before the write and ended after it', async () => {
    const { service, tracks } = setUp();
    const readStarted = tracks.currentGeneration();
    await service.update(ID, 1, {} as TrackInput);
    tracks.store([[ID, version(1)]], readStarted);
    expect(tracks.get(ID)).toBeUndefined();
  });

  it('drops the dictionary cache on every write, so a new word is found at once', async () => {
    const { service, terms } = setUp();
    await terms.lookup('=w:new', async () => []);
    await service.create({ isrc: 'ZZTST0000001' } as TrackInput);
    let loads = 0;
    await terms.lookup('=w:new', async () => {
      loads++;
      return [];
    });
    expect(loads).toBe(1);
  });

  it('keeps the cache when the write was refused (nothing changed)', async () => {
    const { service, tracks } = setUp({ ok: false, reason: 'VERSION_CONFLICT', version: 3 });
    tracks.store([[ID, version(3)]], tracks.currentGeneration());
    await expect(service.update(ID, 1, {} as TrackInput)).rejects.toMatchObject({ reason: 'VERSION_CONFLICT' });
    expect(tracks.get(ID)).toEqual(version(3));
  });
});

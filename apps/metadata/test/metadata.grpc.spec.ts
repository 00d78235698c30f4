import { Metadata, status } from '@grpc/grpc-js';
import { METADATA_V1, metadataV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { createTestDatabase, migrate, startGrpcTestService, type GrpcTestService, type TestDatabase, testTlsEnv } from '@overture/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations } from '../src/database/migrations/index.js';
import { syntheticCatalogue } from '../src/demo/synthetic-catalogue.js';
import { TEST_CURSOR_KEY } from './fixtures.js';
import { metadataConfigSchema } from '../src/metadata.config.js';
import { MetadataModule } from '../src/metadata.module.js';
import { seedTracks } from './seed-tracks.js';

type Client = metadataV1.MetadataServiceClient;

describe('metadata gRPC service (real PostgreSQL, real gRPC)', () => {
  let db: TestDatabase;
  let service: GrpcTestService<Client>;
  const call = <T>(fn: (c: Client, md: Metadata) => import('rxjs').Observable<T>): Promise<T> => unary(fn(service.client, new Metadata()));
  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresServerUrl'), 'metadata');
    await migrate(db.url, migrations);
    const config = metadataConfigSchema.parse({ ...testTlsEnv('metadata'), DATABASE_URL: db.url, METADATA_CURSOR_KEY: TEST_CURSOR_KEY });
    service = await startGrpcTestService<Client>({
      module: MetadataModule.forRoot(config),
      contract: METADATA_V1,
      serviceName: 'MetadataService',
    });
    await seedTracks(db.url, [...syntheticCatalogue(500)]);
  });

  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  it('loads the demo catalogue idempotently (upsert by ISRC)', async () => {
    const again = await seedTracks(db.url, [...syntheticCatalogue(500)]);
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 500 });
    const [{ count }] = await service.dataSource.query('SELECT count(*)::int AS count FROM tracks');
    expect(count).toBe(500);
  });

  it('finds tracks by filters, in popularity order, paging by cursor without overlap', async () => {
    const seen = new Set<string>();
    let cursor = '';
    let pages = 0;
    do {
      const page = await call((c, md) =>
        c.searchTracks({ query: '', genre: 'rock', mood: '', language: '', limit: 7, cursor }, md, withDeadline(5000)),
      );
      for (const track of page.tracks) {
        expect(track.attributes?.genres).toContain('rock');
        expect(seen.has(track.trackId)).toBe(false);
        seen.add(track.trackId);
      }
      const pops = page.tracks.map((t) => t.popularity);
      expect(pops).toEqual([...pops].sort((a, b) => b - a));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    const [{ count }] = await service.dataSource.query(
      `SELECT count(*)::int AS count FROM tracks WHERE attributes @> '{"genres":["rock"]}'`,
    );
    expect(seen.size).toBe(count);
    expect(pages).toBeGreaterThan(1);
  });

  it('combines text, language and BPM range filters', async () => {
    const page = await call((c, md) =>
      c.searchTracks({ query: '', genre: '', mood: '', language: 'zh', minBpm: 90, maxBpm: 110, limit: 50, cursor: '' }, md),
    );
    expect(page.tracks.length).toBeGreaterThan(0);
    for (const t of page.tracks) {
      expect(t.attributes?.language).toBe('zh');
      expect(t.attributes?.bpm).toBeGreaterThanOrEqual(90);
      expect(t.attributes?.bpm).toBeLessThanOrEqual(110);
    }
    const word = page.tracks[0]!.title.slice(0, 2);
    const byText = await call((c, md) => c.searchTracks({ query: word, genre: '', mood: '', language: '', limit: 50, cursor: '' }, md));
    expect(byText.tracks.length).toBeGreaterThan(0);
    for (const t of byText.tracks) expect(`${t.title} ${t.artistName} ${t.albumTitle}`.toLowerCase()).toContain(word.toLowerCase());
  });

  it('gets one track and a batch in the order asked, reporting missing ids', async () => {
    const page = await call((c, md) => c.searchTracks({ query: '', genre: '', mood: '', language: '', limit: 3, cursor: '' }, md));
    const [a, b] = page.tracks;
    const one = await call((c, md) => c.getTrack({ trackId: a!.trackId }, md));
    expect(one.track?.isrc).toBe(a!.isrc);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const batch = await call((c, md) => c.batchGetTracks({ trackIds: [b!.trackId, unknown, a!.trackId] }, md));
    expect(batch.tracks.map((t) => t.trackId)).toEqual([b!.trackId, a!.trackId]);
    expect(batch.missingTrackIds).toEqual([unknown]);
  });

  it('answers NOT_FOUND for an unknown track and INVALID_ARGUMENT for bad input', async () => {
    const notFound = await failure(call((c, md) => c.getTrack({ trackId: '00000000-0000-4000-8000-000000000000' }, md)));
    expect(notFound).toMatchObject({ code: status.NOT_FOUND, reason: 'TRACK_NOT_FOUND' });

    const malformedId = await failure(call((c, md) => c.getTrack({ trackId: "1' OR '1'='1" }, md)));
    expect(malformedId).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(malformedId?.details).toMatch(/trackId/);

    const forged = await failure(
      call((c, md) => c.searchTracks({ query: '', genre: '', mood: '', language: '', limit: 5, cursor: 'eyJ4IjoxfQ' }, md)),
    );
    expect(forged).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_CURSOR' });

    const tooMany = await failure(
      call((c, md) => c.searchTracks({ query: '', genre: '', mood: '', language: '', limit: 500, cursor: '' }, md)),
    );
    expect(tooMany).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(tooMany?.details).toMatch(/limit/);

    const inverted = await failure(
      call((c, md) => c.searchTracks({ query: '', genre: '', mood: '', language: '', minBpm: 150, maxBpm: 100, limit: 5, cursor: '' }, md)),
    );
    expect(inverted?.details).toMatch(/minBpm/);
  });

  it('treats LIKE wildcards in text as literal characters', async () => {
    const page = await call((c, md) => c.searchTracks({ query: '%', genre: '', mood: '', language: '', limit: 5, cursor: '' }, md));
    expect(page.tracks).toEqual([]);
  });
});

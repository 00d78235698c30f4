import { Metadata } from '@grpc/grpc-js';
import { METADATA_V1, metadataV1 } from '@overture/contracts';
import { createGrpcClient, readGrpcError, unary, withDeadline } from '@overture/grpc';
import {
  createTestDatabase,
  LISTENER_PERMISSIONS,
  migrate,
  startFakeAuthServer,
  startGrpcTestService,
  type FakeAuthServer,
  type GrpcTestService,
  type TestDatabase,
  testTlsEnv,
  testTransport,
} from '@overture/testing';
import type { Observable } from 'rxjs';
import type { TrackInput } from '../src/catalogue/track-input.schema.js';
import { migrations } from '../src/database/migrations/index.js';
import { metadataConfigSchema } from '../src/metadata.config.js';
import { MetadataModule } from '../src/metadata.module.js';

export type Client = metadataV1.MetadataServiceClient;
export type CatalogueClient = metadataV1.CatalogueServiceClient;

/** The service under test, with clients of both its gRPC services. */
export interface MetadataTestService extends GrpcTestService<Client> {
  readonly catalogue: CatalogueClient;
  /** The catalogue service as recommendation calls it: the change feed is for it alone. */
  readonly feed: CatalogueClient;
  /** Stands in for auth: signs the tokens catalogue writes need. */
  readonly auth: FakeAuthServer;
}

/** A fresh, migrated database for one test file. */
export async function freshDatabase(serverUrl: string, name: string): Promise<TestDatabase> {
  const db = await createTestDatabase(serverUrl, name);
  await migrate(db.url, migrations);
  return db;
}

/** The cursor-signing key the service under test is configured with. */
export const TEST_CURSOR_KEY = 'metadata-test-cursor-key-0123456789abcdef';

export async function startService(databaseUrl: string, env: Record<string, string> = {}): Promise<MetadataTestService> {
  const auth = await startFakeAuthServer({ listener: LISTENER_PERMISSIONS, curator: [...LISTENER_PERMISSIONS, 'catalogue:write'] });
  const config = metadataConfigSchema.parse({
    ...testTlsEnv('metadata'),
    DATABASE_URL: databaseUrl,
    AUTH_GRPC_URL: auth.url,
    METADATA_CURSOR_KEY: TEST_CURSOR_KEY,
    ...env,
  });
  const service = await startGrpcTestService<Client>({
    module: MetadataModule.forRoot(config),
    contract: METADATA_V1,
    serviceName: 'MetadataService',
  });
  const catalogue = createGrpcClient<CatalogueClient>({
    contract: METADATA_V1,
    serviceName: 'CatalogueService',
    url: service.url,
    transport: testTransport('api-gateway'),
  });
  const feed = createGrpcClient<CatalogueClient>({
    contract: METADATA_V1,
    serviceName: 'CatalogueService',
    url: service.url,
    transport: testTransport('recommendation'),
  });
  return {
    ...service,
    catalogue: catalogue.service,
    feed: feed.service,
    auth,
    stop: async () => {
      catalogue.close();
      feed.close();
      await service.stop();
      await auth.stop();
    },
  };
}

export function caller(service: MetadataTestService) {
  return <T>(fn: (c: Client, md: Metadata, opts: ReturnType<typeof withDeadline>) => Observable<T>): Promise<T> =>
    unary(fn(service.client, new Metadata(), withDeadline(10_000)));
}

/** Calls the catalogue service as a curator (writes need catalogue:write). */
export function catalogueCaller(service: MetadataTestService) {
  return async <T>(fn: (c: CatalogueClient, md: Metadata, opts: ReturnType<typeof withDeadline>) => Observable<T>): Promise<T> => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await service.auth.sign({ roles: ['curator'] })}`);
    return unary(fn(service.catalogue, metadata, withDeadline(10_000)));
  };
}

/** Reads the change feed as recommendation does. */
export function changeFeed(service: MetadataTestService) {
  return (cursor: string, limit: number): Promise<metadataV1.ListChangesResponse> =>
    unary(service.feed.listChanges({ cursor, limit }, new Metadata(), withDeadline(10_000)));
}

export async function failure(promise: Promise<unknown>) {
  return readGrpcError(
    await promise.then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
}

/** A SearchTracksRequest with every field at its "not set" value, overridden by `over`. */
export function searchRequest(
  over: Partial<metadataV1.SearchTracksRequest> = {},
  options: Partial<metadataV1.SearchOptions> = {},
): metadataV1.SearchTracksRequest {
  return {
    query: '',
    genre: '',
    mood: '',
    language: '',
    limit: 20,
    cursor: '',
    ...over,
    options: { genres: [], moods: [], tags: [], sort: '', facets: [], key: '', mode: '', vocalType: '', ...options },
  };
}

let isrcCounter = 0;
/** A valid track with a unique ISRC, overridable field by field. */
export function track(over: Partial<TrackInput> = {}, attributes: Partial<TrackInput['attributes']> = {}): TrackInput {
  isrcCounter++;
  return {
    title: `Track ${isrcCounter}`,
    artist_name: 'Test Artist',
    album_title: 'Test Album',
    duration_ms: 200_000,
    isrc: `ZZTST${String(isrcCounter).padStart(7, '0')}`,
    release_date: '2020-01-01',
    popularity: 50,
    explicit: false,
    regions: [],
    tier: 'free',
    audio_ref: '',
    ...over,
    attributes: {
      genres: ['pop'],
      moods: ['happy'],
      language: 'en',
      bpm: 120,
      energy: 0.5,
      valence: 0.5,
      danceability: 0.5,
      tags: [],
      ...attributes,
    },
  };
}

/** The proto TrackInput of a track, for CreateTrack/UpdateTrack. */
export function toProtoInput(t: TrackInput): metadataV1.TrackInput {
  const a = t.attributes;
  return {
    title: t.title,
    artistName: t.artist_name,
    albumTitle: t.album_title,
    durationMs: t.duration_ms,
    isrc: t.isrc,
    releaseDate: t.release_date,
    popularity: t.popularity,
    explicit: t.explicit,
    regions: t.regions,
    tier: t.tier,
    audioRef: t.audio_ref,
    attributes: {
      genres: a.genres,
      moods: a.moods,
      language: a.language,
      bpm: a.bpm,
      energy: a.energy,
      valence: a.valence,
      danceability: a.danceability,
      tags: a.tags,
      extra: { key: a.key ?? '', mode: a.mode ?? '', vocalType: a.vocal_type ?? '' },
    },
  };
}

/**
 * How many term pairs `catalogue_term_pairs` gets wrong: pairs of genre, mood, language, BPM-bucket,
 * key, mode, vocal-type, explicit and decade terms, counted here from the tracks' terms and compared
 * both ways with what the write paths maintained (a pair they zeroed may stay as a 0 row).
 */
export const PAIR_COUNT_ERRORS_SQL = `
  WITH t AS (SELECT t.doc, c.id FROM tracks t CROSS JOIN unnest(t.term_ids) AS x (id) JOIN catalogue_terms c ON c.id = x.id WHERE c.term ~ '^[gmlbkovey]:'),
  truth AS (SELECT a.id AS term_a, b.id AS term_b, count(*) AS n FROM t a JOIN t b ON a.doc = b.doc AND a.id <> b.id GROUP BY 1, 2),
  stored AS (SELECT term_a, term_b, track_count AS n FROM catalogue_term_pairs WHERE track_count <> 0)
  SELECT count(*)::int AS n FROM ((TABLE truth EXCEPT TABLE stored) UNION ALL (TABLE stored EXCEPT TABLE truth)) d`;

/** Tracks having both terms, by the maintained pair counts. */
export function pairCountSql(a: string, b: string): string {
  return `SELECT coalesce(sum(p.track_count), 0)::int AS n FROM catalogue_term_pairs p
    JOIN catalogue_terms x ON x.id = p.term_a JOIN catalogue_terms y ON y.id = p.term_b WHERE x.term = '${a}' AND y.term = '${b}'`;
}

/** Postings whose bits differ from their track's, computed again in SQL (catalogue/term-bits.ts): must be 0. */
export const POSTING_BITS_ERRORS_SQL = `SELECT count(*)::int AS n FROM track_postings p JOIN tracks t ON t.doc = p.doc WHERE p.bits <> catalogue_track_bits(t.attributes, t.explicit)`;

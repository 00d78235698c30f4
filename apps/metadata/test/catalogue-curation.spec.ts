import { Metadata, status } from '@grpc/grpc-js';
import { unary, withDeadline } from '@overture/grpc';
import type { TestDatabase } from '@overture/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { importCatalogue } from '../src/import/catalogue-import.js';
import {
  caller,
  catalogueCaller,
  changeFeed,
  failure,
  freshDatabase,
  PAIR_COUNT_ERRORS_SQL,
  pairCountSql,
  POSTING_BITS_ERRORS_SQL,
  searchRequest,
  startService,
  toProtoInput,
  track,
  type MetadataTestService,
} from './fixtures.js';

describe('curator writes, change feed and the hot-track cache across replicas', () => {
  let db: TestDatabase;
  let a: MetadataTestService;
  let b: MetadataTestService;
  let callA: ReturnType<typeof caller>;
  let callB: ReturnType<typeof caller>;
  let writeA: ReturnType<typeof catalogueCaller>;

  beforeAll(async () => {
    db = await freshDatabase(inject('postgresServerUrl'), 'metadata_curation');
    a = await startService(db.url);
    b = await startService(db.url);
    callA = caller(a);
    callB = caller(b);
    writeA = catalogueCaller(a);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
  });

  it('refuses catalogue writes without a token or without catalogue:write (a listener)', async () => {
    const input = { track: toProtoInput(track({ title: 'Not Allowed' })) };
    const anonymous = await failure(unary(a.catalogue.createTrack(input, new Metadata(), withDeadline(10_000))));
    expect(anonymous).toMatchObject({ code: status.UNAUTHENTICATED });
    const asListener = new Metadata();
    asListener.set('authorization', `Bearer ${await a.auth.sign({ roles: ['listener'] })}`);
    const listener = await failure(unary(a.catalogue.createTrack(input, asListener, withDeadline(10_000))));
    expect(listener).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'PERMISSION_DENIED' });
  });

  it('creates, updates with an expected version, and deletes; the feed lists each change in order', async () => {
    const start = await changeFeed(a)('', 1000);
    const input = track({ title: 'Curated Song' }, { genres: ['folk'], key: 'd', vocal_type: 'female' });
    const created = (await writeA((c, md, o) => c.createTrack({ track: toProtoInput(input) }, md, o))).track!;
    expect(created.details?.version).toBe(1);
    expect(created.attributes?.extra).toEqual({ key: 'd', mode: '', vocalType: 'female' });

    const duplicate = await failure(writeA((c, md, o) => c.createTrack({ track: toProtoInput(input) }, md, o)));
    expect(duplicate).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'ISRC_TAKEN' });

    const renamed = { ...input, title: 'Curated Song (2024 Remaster)', popularity: 77 };
    const updated = (
      await writeA((c, md, o) => c.updateTrack({ trackId: created.trackId, expectedVersion: 1, track: toProtoInput(renamed) }, md, o))
    ).track!;
    expect(updated).toMatchObject({ title: renamed.title, popularity: 77, details: expect.objectContaining({ version: 2 }) });
    const stale = await failure(
      writeA((c, md, o) => c.updateTrack({ trackId: created.trackId, expectedVersion: 1, track: toProtoInput(renamed) }, md, o)),
    );
    expect(stale).toMatchObject({ code: status.ABORTED, reason: 'VERSION_CONFLICT' });

    // Search sees the new title (postings moved with the update), not the old one.
    const found = await callA((c, md, o) => c.searchTracks(searchRequest({ query: 'remaster' }), md, o));
    expect(found.tracks.map((t) => t.trackId)).toEqual([created.trackId]);
    // Postings carry the track's BPM and year for range filters: an update that changes only those
    // moves them too.
    const retimed = { ...renamed, release_date: '1987-06-01', attributes: { ...renamed.attributes, bpm: 171 } };
    const v3 = (
      await writeA((c, md, o) => c.updateTrack({ trackId: created.trackId, expectedVersion: 2, track: toProtoInput(retimed) }, md, o))
    ).track!;
    expect(v3.details?.version).toBe(3);
    const inRange = (minBpm: number, maxBpm: number, minYear: number, maxYear: number) =>
      callA((c, md, o) => c.searchTracks(searchRequest({ query: 'remaster', minBpm, maxBpm }, { minYear, maxYear }), md, o)).then((p) =>
        p.tracks.map((t) => t.trackId),
      );
    expect(await inRange(170, 172, 1987, 1987)).toEqual([created.trackId]);
    expect(await inRange(110, 130, 1900, 2100)).toEqual([]);
    expect(await inRange(1, 400, 2020, 2029)).toEqual([]);
    // One genre alone: its facets are its maintained pair counts, exact, moved by the update.
    const folk = await callA((c, md, o) =>
      c.searchTracks(searchRequest({ genre: 'folk', limit: 1 }, { facets: ['bpm', 'key', 'vocal_type'] }), md, o),
    );
    expect(folk.info?.facets).toEqual([
      expect.objectContaining({ name: 'bpm', values: [{ value: '170-179', count: 1 }], exact: true }),
      expect.objectContaining({ name: 'key', values: [{ value: 'd', count: 1 }], exact: true }),
      expect.objectContaining({ name: 'vocal_type', values: [{ value: 'female', count: 1 }], exact: true }),
    ]);
    // Two values no track has together: nothing, and nothing more to page through.
    const apart = await callA((c, md, o) => c.searchTracks(searchRequest({ genre: 'folk' }, { key: 'c' }), md, o));
    expect(apart).toMatchObject({ tracks: [], nextCursor: '' });
    expect(apart.info?.partial ?? false).toBe(false);
    // The word drives; genre, key and vocal type are checked on the walked postings' bits, which
    // moved with the update.
    const checked = (key: string) =>
      callA((c, md, o) => c.searchTracks(searchRequest({ query: 'remaster', genre: 'folk' }, { key, vocalType: 'female' }), md, o)).then(
        (p) => p.tracks.map((t) => t.trackId),
      );
    expect(await checked('d')).toEqual([created.trackId]);
    expect(await checked('e')).toEqual([]);
    const pairs = async (sql: string): Promise<number> => ((await a.dataSource.query(sql)) as { n: number }[])[0]!.n;
    expect(await pairs(POSTING_BITS_ERRORS_SQL)).toBe(0);
    expect(await pairs(pairCountSql('g:folk', 'b:120'))).toBe(0);
    expect(await pairs(pairCountSql('g:folk', 'b:170'))).toBe(1);
    expect(await pairs(PAIR_COUNT_ERRORS_SQL)).toBe(0);
    const facets = await callA((c, md, o) => c.searchTracks(searchRequest({ limit: 1 }, { facets: ['genre'] }), md, o));
    expect(facets.info?.facets[0]?.values).toContainEqual({ value: 'folk', count: 1 });

    await writeA((c, md, o) => c.deleteTrack({ trackId: created.trackId, expectedVersion: 3 }, md, o));
    const gone = await failure(callA((c, md, o) => c.getTrack({ trackId: created.trackId }, md, o)));
    expect(gone).toMatchObject({ code: status.NOT_FOUND });
    const after = await callA((c, md, o) => c.searchTracks(searchRequest({ limit: 1 }, { facets: ['genre'] }), md, o));
    expect(after.info?.facets[0]?.values.find((v) => v.value === 'folk')).toBeUndefined();
    expect(await pairs(pairCountSql('g:folk', 'k:d'))).toBe(0);
    expect(await pairs(PAIR_COUNT_ERRORS_SQL)).toBe(0);

    const feed = await changeFeed(a)(start.nextCursor, 1000);
    expect(feed.changes.map((ch) => [ch.kind, ch.version])).toEqual([
      ['created', 1],
      ['updated', 2],
      ['updated', 3],
      ['deleted', 4],
    ]);
    const empty = await changeFeed(a)(feed.nextCursor, 10);
    // The feed is recommendation's: the gateway's certificate is refused.
    expect(await failure(writeA((c, md, o) => c.listChanges({ cursor: '', limit: 10 }, md, o)))).toMatchObject({
      reason: 'CALLER_NOT_ALLOWED',
    });
    expect(empty.changes).toEqual([]);
  });

  it('refuses invalid attribute values on write, naming the field', async () => {
    const cases: [Parameters<typeof track>[1], RegExp][] = [
      [{ genres: ['polka-step'] }, /attributes\.genres\.0: unknown genre/],
      [{ bpm: 9000 }, /attributes\.bpm/],
      [{ energy: 1.5 }, /attributes\.energy/],
      [{ language: 'xx' }, /attributes\.language/],
    ];
    for (const [attributes, message] of cases) {
      const error = await failure(writeA((c, md, o) => c.createTrack({ track: toProtoInput(track({}, attributes)) }, md, o)));
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(message);
    }
    const badIsrc = await failure(
      writeA((c, md, o) => c.createTrack({ track: toProtoInput(track({ isrc: "x'; DROP TABLE tracks" })) }, md, o)),
    );
    expect(badIsrc?.details).toMatch(/isrc/);
  });

  it('finds the artist and album a curator created when an import names them, whatever their letters', async () => {
    // JavaScript lower-cases a final sigma to ς; PostgreSQL's lower() does not (or, under ctype C,
    // leaves Greek alone): keyed one way by the curator and the other by the import, one artist
    // became two rows.
    const curated = track({ artist_name: 'ΧΡΥΣΟΣ ΗΧΟΣ', album_title: 'ΟΔΟΣ ΑΙΟΛΟΥ' });
    await writeA((c, md, o) => c.createTrack({ track: toProtoInput(curated) }, md, o));
    const dir = await mkdtemp(path.join(tmpdir(), 'overture-keys-'));
    try {
      const file = path.join(dir, 'more.jsonl');
      await writeFile(file, `${JSON.stringify(track({ artist_name: 'Χρυσος Ηχος', album_title: 'Οδος Αιολου' }))}\n`);
      const quiet = new PassThrough() as unknown as NodeJS.WriteStream;
      quiet.resume();
      const report = await importCatalogue({
        databaseUrl: db.url,
        file,
        batchSize: 10,
        rejectsFile: `${file}.rejected.jsonl`,
        progress: quiet,
      });
      expect(report.created).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const rows: { artists: number; albums: number }[] = await a.dataSource.query(
      `SELECT count(DISTINCT artist_id)::int AS artists, count(DISTINCT album_id)::int AS albums FROM tracks WHERE artist_name IN ('ΧΡΥΣΟΣ ΗΧΟΣ', 'Χρυσος Ηχος')`,
    );
    expect(rows).toEqual([{ artists: 1, albums: 1 }]);
  });

  it('drops a cached track in every replica when any replica updates it', async () => {
    const input = track({ title: 'Cached Before' });
    const created = (await writeA((c, md, o) => c.createTrack({ track: toProtoInput(input) }, md, o))).track!;
    // Both replicas read (and cache) version 1.
    expect((await callB((c, md, o) => c.getTrack({ trackId: created.trackId }, md, o))).track?.title).toBe('Cached Before');
    expect((await callA((c, md, o) => c.getTrack({ trackId: created.trackId }, md, o))).track?.title).toBe('Cached Before');
    await writeA((c, md, o) =>
      c.updateTrack({ trackId: created.trackId, expectedVersion: 1, track: toProtoInput({ ...input, title: 'Cached After' }) }, md, o),
    );
    await vi.waitFor(
      async () => {
        const batch = await callB((c, md, o) => c.batchGetTracks({ trackIds: [created.trackId] }, md, o));
        expect(batch.tracks[0]?.title).toBe('Cached After');
      },
      { timeout: 5_000, interval: 50 },
    );
  });

  it('never serves the old version of a track read right after the same replica updated or deleted it', async () => {
    const stale: string[] = [];
    for (let i = 0; i < 40; i++) {
      const input = track({ title: `Version 1 (${i})` });
      const created = (await writeA((c, md, o) => c.createTrack({ track: toProtoInput(input) }, md, o))).track!;
      const read = () => callA((c, md, o) => c.getTrack({ trackId: created.trackId }, md, o));
      expect((await read()).track?.details?.version).toBe(1);
      await writeA((c, md, o) =>
        c.updateTrack(
          { trackId: created.trackId, expectedVersion: 1, track: toProtoInput({ ...input, title: `Version 2 (${i})` }) },
          md,
          o,
        ),
      );
      const afterUpdate = (await read()).track?.details;
      if (afterUpdate?.version !== 2) stale.push(`update ${i}: version ${afterUpdate?.version}`);
      await writeA((c, md, o) => c.deleteTrack({ trackId: created.trackId, expectedVersion: 2 }, md, o));
      const afterDelete = await failure(read());
      if (afterDelete?.code !== status.NOT_FOUND) stale.push(`delete ${i}: ${afterDelete ? afterDelete.code : 'found'}`);
    }
    expect(stale).toEqual([]);
  });

  it('finds a new word in every replica once any replica writes it (cached dictionary misses are dropped)', async () => {
    const search = (query: string) => callB((c, md, o) => c.searchTracks(searchRequest({ query }), md, o));
    // Replica B looks the word up (and caches "no such word") before it exists.
    expect((await search('zyzzogeton')).tracks).toEqual([]);
    expect((await search('zyzzogeton')).tracks).toEqual([]);
    const created = (await writeA((c, md, o) => c.createTrack({ track: toProtoInput(track({ title: 'Zyzzogeton Nights' })) }, md, o)))
      .track!;
    await vi.waitFor(
      async () => {
        expect((await search('zyzzogeton')).tracks.map((t) => t.trackId)).toEqual([created.trackId]);
      },
      { timeout: 5_000, interval: 50 },
    );
    // And a genre count seen by unfiltered facets moves with the write.
    const facets = async () =>
      (await callB((c, md, o) => c.searchTracks(searchRequest({ limit: 1 }, { facets: ['genre'] }), md, o))).info?.facets[0]?.values.find(
        (v) => v.value === 'city-pop',
      )?.count ?? 0;
    const before = await facets();
    await writeA((c, md, o) =>
      c.createTrack({ track: toProtoInput(track({ title: 'Plastic Love Again' }, { genres: ['city-pop'] })) }, md, o),
    );
    await vi.waitFor(async () => expect(await facets()).toBe(before + 1), { timeout: 5_000, interval: 50 });
  });
});

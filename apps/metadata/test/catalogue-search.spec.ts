import { Metadata, status } from '@grpc/grpc-js';
import type { metadataV1 } from '@overture/contracts';
import type { TestDatabase } from '@overture/testing';
import { unary, withDeadline } from '@overture/grpc';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrackInput } from '../src/catalogue/track-input.schema.js';
import { trackTerms } from '../src/catalogue/track-terms.js';
import { syntheticCatalogue } from '../src/demo/synthetic-catalogue.js';
import {
  caller,
  catalogueCaller,
  failure,
  freshDatabase,
  searchRequest,
  startService,
  track,
  type MetadataTestService,
} from './fixtures.js';
import { LANGUAGES, MOODS } from '../src/catalogue/attribute-vocabulary.js';
import { FACET_SAMPLE } from '../src/search/facet.counter.js';
import { SCAN_BUDGET } from '../src/search/search.service.js';
import { seedTracks } from './seed-tracks.js';

describe('catalogue search and browse (real PostgreSQL, real gRPC)', () => {
  let db: TestDatabase;
  let service: MetadataTestService;
  let call: ReturnType<typeof caller>;
  let pagesCall: ReturnType<typeof catalogueCaller>;
  const catalogue: TrackInput[] = [];

  const pages = async (request: metadataV1.SearchTracksRequest, max = 200): Promise<{ tracks: metadataV1.Track[]; pages: number }> => {
    const tracks: metadataV1.Track[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const page = await call((c, md, o) => c.searchTracks({ ...request, cursor }, md, o));
      tracks.push(...page.tracks);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < max);
    return { tracks, pages };
  };

  beforeAll(async () => {
    db = await freshDatabase(inject('postgresServerUrl'), 'metadata_search');
    catalogue.push(
      // Gospel is left to the two tracks below: the rare genre whose tracks the tests know.
      ...[...syntheticCatalogue(1200, 9)].filter((t) => !t.attributes.genres.includes('gospel')),
      // And titles and CJK names the synthetic vocabulary does not use.
      track({ title: 'Amazing Grace Revisited', popularity: 3 }, { genres: ['gospel'], moods: ['peaceful'] }),
      track({ title: 'Sunday Choir', popularity: 90 }, { genres: ['gospel'], moods: ['uplifting'] }),
      track({ title: '夜空中最亮的星', artist_name: '逃跑计划', popularity: 70 }, { genres: ['mandopop'], language: 'zh' }),
      track({ title: '残酷な天使のテーゼ', artist_name: '高橋洋子', popularity: 65 }, { genres: ['j-pop'], language: 'ja' }),
      track({ title: 'Midnight Serenade', popularity: 40 }, { genres: ['jazz'] }),
      track({ title: 'Midnightly', popularity: 95 }, { genres: ['jazz'] }),
    );
    await seedTracks(db.url, catalogue);
    service = await startService(db.url);
    call = caller(service);
    pagesCall = catalogueCaller(service);
  });

  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  it('pages through a common filter and a rare one completely, in order, without overlap', async () => {
    for (const genre of ['pop', 'gospel']) {
      const { tracks } = await pages(searchRequest({ genre, limit: 25 }));
      const expected = catalogue.filter((t) => t.attributes.genres.includes(genre));
      expect(tracks.map((t) => t.isrc).sort()).toEqual(expected.map((t) => t.isrc).sort());
      const keys = tracks.map((t) => t.popularity);
      expect(keys).toEqual([...keys].sort((a, b) => b - a));
    }
  });

  it('combines three facets and a range exactly as a brute-force filter would', async () => {
    const request = searchRequest({ genre: 'rock', language: 'en', minBpm: 110, maxBpm: 140, limit: 50 }, { moods: ['energetic'] });
    const { tracks } = await pages(request);
    const expected = catalogue.filter(
      (t) =>
        t.attributes.genres.includes('rock') &&
        t.attributes.language === 'en' &&
        t.attributes.moods.includes('energetic') &&
        t.attributes.bpm >= 110 &&
        t.attributes.bpm <= 140,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(tracks.map((t) => t.isrc).sort()).toEqual(expected.map((t) => t.isrc).sort());
  });

  it('combines a many-word prefix with a filter exactly as a brute-force filter would, whichever group drives', async () => {
    // A prefix with 4–16 words expands to more alternatives than a probe takes: when another group
    // drives, the words are checked on the track row instead. A genre is rarer than the prefix's
    // words (it drives), a language commoner (the words drive).
    const words = new Map<string, number>();
    for (const t of catalogue) for (const term of trackTerms(t)) if (term.startsWith('w:')) words.set(term, (words.get(term) ?? 0) + 1);
    const byPrefix = new Map<string, string[]>();
    for (const term of words.keys()) byPrefix.set(term.slice(0, 3), [...(byPrefix.get(term.slice(0, 3)) ?? []), term]);
    const [prefix, expansions] = [...byPrefix].find(([, terms]) => terms.length > 3 && terms.length <= 16) ?? ['', []];
    const wordTracks = expansions.reduce((n, term) => n + (words.get(term) ?? 0), 0);
    const count = (has: (t: TrackInput) => boolean) => catalogue.filter(has).length;
    expect(count((t) => t.attributes.genres.includes('jazz'))).toBeLessThan(wordTracks);
    expect(count((t) => t.attributes.language === 'en')).toBeGreaterThan(wordTracks);
    const filters: [Partial<metadataV1.SearchTracksRequest>, (t: TrackInput) => boolean][] = [
      [{ genre: 'jazz' }, (t) => t.attributes.genres.includes('jazz')],
      [{ language: 'en' }, (t) => t.attributes.language === 'en'],
    ];
    for (const [filter, matches] of filters) {
      for (const sort of ['popularity', 'release_date']) {
        const { tracks } = await pages(searchRequest({ query: prefix.slice(2), ...filter, limit: 20 }, { sort }));
        const expected = catalogue.filter((t) => matches(t) && trackTerms(t).some((term) => term.startsWith(prefix)));
        expect(expected.length).toBeGreaterThan(0);
        expect(tracks.map((t) => t.isrc).sort(), `${prefix} + ${JSON.stringify(filter)} by ${sort}`).toEqual(
          expected.map((t) => t.isrc).sort(),
        );
      }
    }
  });

  it('walks a rare year range by its decade: whole pages, not a budget spent on the popularity order', async () => {
    // More tracks rank above the 1961 ones than one request may walk: walking the popularity order
    // and checking the year would end the first page early, empty and partial.
    expect(catalogue.filter((t) => t.popularity > 0 && !t.release_date.startsWith('196')).length).toBeGreaterThan(SCAN_BUDGET);
    const sixties = [...Array(25).keys()].map((i) =>
      track({ popularity: 0, release_date: `196${i % 3}-03-01` }, { genres: ['blues'], bpm: 60 + i }),
    );
    await seedTracks(db.url, sixties);
    catalogue.push(...sixties);
    const request = searchRequest({ limit: 5 }, { minYear: 1961, maxYear: 1961 });
    const first = await call((c, md, o) => c.searchTracks(request, md, o));
    expect(first.tracks).toHaveLength(5);
    expect(first.info?.partial ?? false).toBe(false);
    const expected = catalogue.filter((t) => t.release_date.startsWith('1961'));
    expect((await pages(request)).tracks.map((t) => t.isrc).sort()).toEqual(expected.map((t) => t.isrc).sort());
    // With a BPM range too, checked on the walked postings.
    const narrow = await pages(searchRequest({ minBpm: 61, maxBpm: 70, limit: 3 }, { minYear: 1960, maxYear: 1961 }));
    const inBoth = catalogue.filter(
      (t) => t.attributes.bpm >= 61 && t.attributes.bpm <= 70 && ['1960', '1961'].includes(t.release_date.slice(0, 4)),
    );
    expect(inBoth.length).toBeGreaterThan(3);
    expect(narrow.tracks.map((t) => t.isrc).sort()).toEqual(inBoth.map((t) => t.isrc).sort());
  });

  it('keeps a cursor stable while tracks are added', async () => {
    const request = searchRequest({ genre: 'jazz', limit: 10 });
    const before = (await pages(request)).tracks.map((t) => t.isrc);
    const first = await call((c, md, o) => c.searchTracks(request, md, o));
    // New tracks before, inside and after the position of the cursor.
    const added = [100, 50, 1].map((popularity) => track({ popularity }, { genres: ['jazz'] }));
    await seedTracks(db.url, added);
    catalogue.push(...added);
    const rest: string[] = [];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await call((c, md, o) => c.searchTracks({ ...request, cursor }, md, o));
      rest.push(...page.tracks.map((t) => t.isrc));
      cursor = page.nextCursor;
    }
    const seen = [...first.tracks.map((t) => t.isrc), ...rest];
    expect(new Set(seen).size).toBe(seen.length);
    // Every track that existed before is still found exactly once.
    for (const isrc of before) expect(seen).toContain(isrc);
  });

  it('finds text by prefix, by misspelling, and exact words first', async () => {
    const prefix = await call((c, md, o) => c.searchTracks(searchRequest({ query: 'midn' }), md, o));
    expect(prefix.tracks.map((t) => t.title)).toEqual(expect.arrayContaining(['Midnight Serenade', 'Midnightly']));
    const exact = await call((c, md, o) => c.searchTracks(searchRequest({ query: 'midnight serenade' }), md, o));
    expect(exact.tracks[0]?.title).toBe('Midnight Serenade');
    const relevance = (await pages(searchRequest({ query: 'midnight', limit: 50 }))).tracks.map(
      (t) => `${t.title} | ${t.artistName} | ${t.albumTitle}`,
    );
    // "Midnightly" is more popular but only a prefix match: every exact word match comes first.
    const exactWord = (text: string) => /(^|[^\p{L}])midnight([^\p{L}]|$)/iu.test(text);
    const firstPrefixOnly = relevance.findIndex((t) => !exactWord(t));
    expect(relevance[firstPrefixOnly]).toMatch(/^Midnightly/);
    expect(relevance.slice(firstPrefixOnly).some(exactWord)).toBe(false);
    expect(relevance.some((t) => t.startsWith('Midnight Serenade'))).toBe(true);
    // Facets count the matches of every tier.
    const all = (await pages(searchRequest({ query: 'midnight', limit: 50 }))).tracks;
    const faceted = await call((c, md, o) => c.searchTracks(searchRequest({ query: 'midnight', limit: 1 }, { facets: ['genre'] }), md, o));
    const jazz = faceted.info?.facets[0]?.values.find((v) => v.value === 'jazz')?.count;
    expect(jazz).toBe(all.filter((t) => t.attributes?.genres.includes('jazz')).length);
    const fuzzy = await call((c, md, o) => c.searchTracks(searchRequest({ query: 'serenda' }), md, o));
    expect(fuzzy.tracks.map((t) => t.title)).toContain('Midnight Serenade');
  });

  it('finds Chinese and Japanese titles by a substring and by a single character', async () => {
    for (const [query, title] of [
      ['最亮', '夜空中最亮的星'],
      ['星', '夜空中最亮的星'],
      ['逃跑', '夜空中最亮的星'],
      ['天使', '残酷な天使のテーゼ'],
      ['テーゼ', '残酷な天使のテーゼ'],
    ] as const) {
      const page = await call((c, md, o) => c.searchTracks(searchRequest({ query, limit: 50 }), md, o));
      expect(
        page.tracks.map((t) => t.title),
        query,
      ).toContain(title);
    }
  });

  it('sorts by release date, newest first', async () => {
    const { tracks } = await pages(searchRequest({ genre: 'gospel', limit: 1 }, { sort: 'release_date' }));
    const dates = tracks.map((t) => t.details?.releaseDate ?? '');
    expect(dates.length).toBe(2);
    expect(dates).toEqual([...dates].sort().reverse());
  });

  it('ends a page at the scan budget, partial with a cursor that walks on, in both sort orders', async () => {
    // Energy is checked on the track row: the walk is over all tracks, and more than a budget's
    // worth of them come before these three in popularity and in release date.
    const quiet = [1, 2, 3].map((month) =>
      track({ popularity: 0, release_date: `1950-0${month}-01` }, { genres: ['ambient'], energy: 0.005 }),
    );
    await seedTracks(db.url, quiet);
    catalogue.push(...quiet);
    expect(catalogue.filter((t) => t.attributes.energy <= 0.01)).toHaveLength(3);
    expect(catalogue.filter((t) => t.popularity > 0 && t.release_date > '1950-03-01').length).toBeGreaterThan(SCAN_BUDGET);
    for (const sort of ['popularity', 'release_date']) {
      const request = searchRequest({ limit: 2 }, { maxEnergy: 0.01, sort });
      const first = await call((c, md, o) => c.searchTracks(request, md, o));
      expect(first.tracks, sort).toHaveLength(0);
      expect(first.info?.partial, sort).toBe(true);
      expect(first.nextCursor, sort).not.toBe('');
      const { tracks } = await pages(request);
      expect(tracks.map((t) => t.isrc).sort(), sort).toEqual(quiet.map((t) => t.isrc).sort());
      if (sort === 'release_date') expect(tracks.map((t) => t.details?.releaseDate)).toEqual(['1950-03-01', '1950-02-01', '1950-01-01']);
    }
  });

  it('counts facets: exact from maintained counts without filters, and over the matches with filters', async () => {
    const all = await call((c, md, o) => c.searchTracks(searchRequest({ limit: 1 }, { facets: ['genre', 'bpm'] }), md, o));
    const genre = all.info?.facets.find((f) => f.name === 'genre');
    const [{ count }] = await service.dataSource.query(`SELECT count(*)::int AS count FROM tracks WHERE attributes->'genres' ? 'rock'`);
    expect(genre?.exact).toBe(true);
    expect(genre?.values.find((v) => v.value === 'rock')?.count).toBe(count);
    expect(all.info?.facets.find((f) => f.name === 'bpm')?.values.length).toBeGreaterThan(3);

    const filtered = await call((c, md, o) => c.searchTracks(searchRequest({ genre: 'gospel', limit: 1 }, { facets: ['mood'] }), md, o));
    const moods = filtered.info?.facets[0];
    expect(moods?.exact).toBe(true);
    expect(moods?.values).toEqual(
      expect.arrayContaining([
        { value: 'peaceful', count: 1 },
        { value: 'uplifting', count: 1 },
      ]),
    );
  });

  it('counts the facets of one genre exactly from the maintained pairs, more tracks than a sample or not', async () => {
    const many = Array.from({ length: FACET_SAMPLE + 100 }, (_, i) =>
      track({ popularity: i % 100 }, { genres: ['afrobeats'], moods: [MOODS[i % 3]!], language: i % 2 ? 'yo' : 'en', bpm: 90 + (i % 40) }),
    );
    await seedTracks(db.url, many);
    catalogue.push(...many);
    const facets = ['mood', 'language', 'bpm', 'genre'] as const;
    const page = await call((c, md, o) => c.searchTracks(searchRequest({ genre: 'afrobeats', limit: 1 }, { facets: [...facets] }), md, o));
    const matches = catalogue.filter((t) => t.attributes.genres.includes('afrobeats'));
    const valuesOf: Record<(typeof facets)[number], (t: TrackInput) => string[]> = {
      mood: (t) => t.attributes.moods,
      language: (t) => (t.attributes.language ? [t.attributes.language] : []),
      bpm: (t) => [`${Math.floor(t.attributes.bpm / 10) * 10}-${Math.floor(t.attributes.bpm / 10) * 10 + 9}`],
      genre: (t) => t.attributes.genres,
    };
    for (const name of facets) {
      const counted = new Map<string, number>();
      for (const t of matches) for (const v of valuesOf[name](t)) counted.set(v, (counted.get(v) ?? 0) + 1);
      const facet = page.info?.facets.find((f) => f.name === name);
      expect(facet?.exact, name).toBe(true);
      expect(new Map(facet?.values.map((v) => [v.value, v.count])), name).toEqual(counted);
    }
  });

  it('finds every genre and language that meet, and nothing where they never do', async () => {
    for (const genre of ['pop', 'rock', 'jazz', 'gospel', 'afrobeats']) {
      for (const language of LANGUAGES) {
        const expected = catalogue.filter((t) => t.attributes.genres.includes(genre) && t.attributes.language === language);
        const { tracks } = await pages(searchRequest({ genre, language, limit: 50 }));
        expect(tracks.length, `${genre} ${language}`).toBe(expected.length);
      }
    }
  });

  it('answers bad input with INVALID_ARGUMENT naming the problem, never INTERNAL', async () => {
    const cases: [Partial<metadataV1.SearchTracksRequest>, Partial<metadataV1.SearchOptions>, RegExp][] = [
      [{ genre: 'polka-step' }, {}, /genre/],
      [{ genre: "rock' OR 1=1 --" }, {}, /genre/],
      [{ minBpm: 9000 }, {}, /minBpm/],
      [{ limit: 1_000_000 }, {}, /limit/],
      [{ cursor: 'eyJvIjoicCIsInQiOjAsImsiOjEsImkiOiJ4In0' }, {}, /cursor/],
      [{ cursor: '!!!' }, {}, /cursor/],
      [{}, { sort: 'random()' }, /sort/],
      [{}, { facets: ['price'] }, /facets/],
      [{}, { minYear: 2020, maxYear: 1990 }, /minYear/],
      [{}, { minEnergy: 2 }, /minEnergy/],
    ];
    for (const [over, options, message] of cases) {
      const error = await failure(call((c, md, o) => c.searchTracks(searchRequest(over, options), md, o)));
      expect(error?.code, JSON.stringify([over, options])).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(message);
    }
    // SQL-looking text is just text.
    const sqlText = await call((c, md, o) => c.searchTracks(searchRequest({ query: "'; DROP TABLE tracks; --" }), md, o));
    expect(sqlText.tracks).toEqual([]);
  });

  it('answers every forged, tampered or misplaced cursor with INVALID_CURSOR on search, browse and artist pages', async () => {
    const invalid = (over: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ o: 'p', t: 0, k: 1, d: 1, ...over })).toString('base64url');
    const search = await call((c, md, o) => c.searchTracks(searchRequest({ genre: 'pop', limit: 2 }), md, o));
    const artistId = search.tracks[0]!.details!.artistId;
    const artist = await pagesCall((c, md, o) => c.getArtist({ artistId, limit: 1, cursor: '' }, md, o));
    expect(search.nextCursor).not.toBe('');
    expect(artist.nextCursor).not.toBe('');
    const [payload, mac] = search.nextCursor.split('.');
    const raised = `${invalid({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), s: 3 })}.${mac}`;
    const forged = [
      invalid({ k: 100_000 }),
      `${invalid({ k: 100_000 })}.${mac}`,
      invalid({ o: 'd', k: 10_000_000 }),
      raised,
      `${payload}.${'A'.repeat(22)}`,
    ];
    const searchCursors = [...forged, artist.nextCursor];
    const artistCursors = [...forged, search.nextCursor];
    for (const cursor of searchCursors) {
      for (const request of [searchRequest({ query: 'track', cursor }), searchRequest({ genre: 'pop', cursor })]) {
        const error = await failure(call((c, md, o) => c.searchTracks(request, md, o)));
        expect(error, `${request.query || 'browse'} ${cursor}`).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_CURSOR' });
      }
    }
    for (const cursor of artistCursors) {
      const error = await failure(pagesCall((c, md, o) => c.getArtist({ artistId, limit: 1, cursor }, md, o)));
      expect(error, cursor).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_CURSOR' });
    }
    // The cursors as issued still page on.
    expect(
      (await call((c, md, o) => c.searchTracks(searchRequest({ genre: 'pop', limit: 2, cursor: search.nextCursor }), md, o))).tracks.length,
    ).toBeGreaterThan(0);
    expect((await pagesCall((c, md, o) => c.getArtist({ artistId, limit: 1, cursor: artist.nextCursor }, md, o))).tracks).toHaveLength(1);
  });

  it('serves artist and album pages with their tracks', async () => {
    const one = await call((c, md, o) => c.searchTracks(searchRequest({ genre: 'gospel', limit: 1 }), md, o));
    const details = one.tracks[0]!.details!;
    const artist = await pagesCall((c, md, o) => c.getArtist({ artistId: details.artistId, limit: 50, cursor: '' }, md, o));
    expect(artist.artist?.name).toBe('Test Artist');
    expect(artist.tracks.every((t) => t.artistName === 'Test Artist')).toBe(true);
    expect(artist.albums.map((a) => a.title)).toContain('Test Album');
    const album = await pagesCall((c, md, o) => c.getAlbum({ albumId: details.albumId }, md, o));
    expect(album.tracks.map((t) => t.trackId)).toContain(one.tracks[0]!.trackId);
    const missing = await failure(
      pagesCall((c, md, o) => c.getArtist({ artistId: '00000000-0000-4000-8000-000000000000', limit: 0, cursor: '' }, md, o)),
    );
    expect(missing).toMatchObject({ code: status.NOT_FOUND, reason: 'ARTIST_NOT_FOUND' });
  });

  it('cancels the statements of a search and an artist page whose caller has gone, and frees their connections', async () => {
    const gospel = await call((c, md, o) => c.searchTracks(searchRequest({ genre: 'gospel' }), md, o));
    // Another session holds the postings and the tracks: the search's walk and the artist page wait
    // for the lock, as a walk without its index (during a bulk load) would scan, until their callers'
    // deadline has passed.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    const waiting = async () =>
      Number(
        (
          await locker.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name <> 'overture-metadata-cancel'`,
          )
        ).rows[0]?.n,
      );
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE track_postings, tracks IN ACCESS EXCLUSIVE MODE');
      const artistId = gospel.tracks[0]!.details!.artistId;
      const gone = await Promise.all([
        failure(unary(service.client.searchTracks(searchRequest({ genre: 'pop' }), new Metadata(), withDeadline(300)))),
        failure(unary(service.catalogue.getArtist({ artistId, limit: 10, cursor: '' }, new Metadata(), withDeadline(300)))),
      ]);
      expect(gone.map((e) => e?.code)).toEqual([status.DEADLINE_EXCEEDED, status.DEADLINE_EXCEEDED]);
      // Cancelled within moments, not left waiting until statement_timeout (15 s).
      await expect.poll(waiting, { timeout: 3_000, interval: 100 }).toBe(0);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    // The service answers on its connections afterwards.
    expect((await call((c, md, o) => c.searchTracks(searchRequest({ genre: 'gospel' }), md, o))).tracks).toHaveLength(2);
    expect(
      (await pagesCall((c, md, o) => c.getArtist({ artistId: gospel.tracks[0]!.details!.artistId, limit: 10, cursor: '' }, md, o))).tracks
        .length,
    ).toBeGreaterThan(0);
  });

  it('lists the attribute vocabulary and ranges', async () => {
    const { attributes } = await pagesCall((c, md, o) => c.getAttributes({}, md, o));
    expect(attributes.find((a) => a.name === 'genres')?.values).toContain('gospel');
    expect(attributes.find((a) => a.name === 'bpm')).toMatchObject({ type: 'integer', min: 1, max: 400 });
  });
});

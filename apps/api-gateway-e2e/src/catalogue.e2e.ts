import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ErrorBody } from '@overture/gateway-contract';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';

interface TrackJson {
  id: string;
  title: string;
  artist_id: string;
  album_id: string;
  version: number;
  popularity: number;
  attributes: { genres: string[]; moods: string[]; language: string; bpm: number };
}
interface SearchJson {
  tracks: TrackJson[];
  next_cursor: string | null;
  partial: boolean;
  facets: { name: string; values: { value: string; count: number }[]; exact: boolean; error_margin: number }[];
}

describe('the catalogue through the gateway (real apps, real PostgreSQL, real gRPC)', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let listener: string;
  let curator: string;

  const signUp = async (role?: string): Promise<string> => {
    const email = `catalogue-${role ?? 'listener'}-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const registered = await api('POST', '/v1/auth/register', { body: { email, password, display_name: 'Cat' } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    if (role) await running.suite.runCommand('auth', ['grant-role', email, role]);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', username: email, password },
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    return issued.body.access_token;
  };

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 800 });
    api = apiClient(running.baseUrl);
    listener = await signUp();
    curator = await signUp('curator');
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('browses by attributes with facet counts, paging by cursor', async () => {
    const first = await api<SearchJson>('GET', '/v1/browse/tracks?genres=rock&min_bpm=100&max_bpm=160&limit=5&facets=mood,bpm', {
      token: listener,
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.tracks).toHaveLength(5);
    for (const t of first.body.tracks) expect(t.attributes.genres).toContain('rock');
    expect(first.body.facets.map((f) => f.name)).toEqual(['mood', 'bpm']);
    expect(first.body.facets[0]!.values.length).toBeGreaterThan(0);
    const second = await api<SearchJson>(
      'GET',
      `/v1/browse/tracks?genres=rock&min_bpm=100&max_bpm=160&limit=5&cursor=${first.body.next_cursor}`,
      { token: listener },
    );
    expect(second.status).toBe(200);
    const ids = new Set(first.body.tracks.map((t) => t.id));
    for (const t of second.body.tracks) expect(ids.has(t.id)).toBe(false);

    const attributes = await api<{ attributes: { name: string; values: string[] }[] }>('GET', '/v1/attributes', { token: listener });
    expect(attributes.body.attributes.find((a) => a.name === 'genres')?.values).toContain('rock');

    const artist = await api<{ name: string; tracks: TrackJson[] }>('GET', `/v1/artists/${first.body.tracks[0]!.artist_id}`, {
      token: listener,
    });
    expect(artist.status).toBe(200);
    expect(artist.body.tracks.map((t) => t.id)).toContain(first.body.tracks[0]!.id);
  });

  it('lets a curator write and refuses a listener with 403', async () => {
    const body = {
      title: 'Gateway Curated',
      artist_name: 'E2E Artist',
      album_title: 'E2E Album',
      duration_ms: 180000,
      isrc: 'ZZE2E0000001',
      release_date: '2024-02-29',
      popularity: 99,
      attributes: { genres: ['folk'], moods: ['calm'], language: 'en', bpm: 90, energy: 0.3, valence: 0.4, danceability: 0.5 },
    };
    const denied = await api<ErrorBody>('POST', '/v1/tracks', { token: listener, body });
    expect(denied.status).toBe(403);

    const created = await api<TrackJson>('POST', '/v1/tracks', { token: curator, body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.version).toBe(1);
    const updated = await api<TrackJson>('PUT', `/v1/tracks/${created.body.id}`, {
      token: curator,
      body: { ...body, title: 'Gateway Curated II' },
      headers: { 'if-match': '"1"' },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({ title: 'Gateway Curated II', version: 2 });
    const stale = await api<ErrorBody>('PUT', `/v1/tracks/${created.body.id}`, { token: curator, body, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.reason).toBe('VERSION_CONFLICT');

    const found = await api<SearchJson>('GET', '/v1/search?q=gateway%20curated', { token: listener });
    expect(found.body.tracks.map((t) => t.title)).toContain('Gateway Curated II');
    const badGenre = await api<ErrorBody>('POST', '/v1/tracks', {
      token: curator,
      body: { ...body, isrc: 'ZZE2E0000002', attributes: { ...body.attributes, genres: ['polka-step'] } },
    });
    expect(badGenre.status).toBe(400);
    expect(badGenre.body.error.message).toMatch(/genre/);
  });

  it('answers malformed queries with 400 and a message naming the problem, never 5xx', async () => {
    const cases: [string, RegExp][] = [
      ['/v1/search?genre=polka-step', /genre/],
      ['/v1/search?limit=100000', /limit/],
      ['/v1/search?min_bpm=150&max_bpm=100', /min_bpm/],
      ['/v1/search?min_bpm=abc', /min_bpm/],
      ['/v1/search?cursor=eyJ4IjoxfQ', /cursor/],
      ['/v1/browse/tracks?facets=price', /facets/],
      ['/v1/browse/tracks?sort=random()', /sort/],
      ['/v1/browse/tracks?colour=red', /colour/],
      ["/v1/search?genre=rock'%20OR%201=1--", /genre/],
      ['/v1/artists/not-an-id', /id/],
    ];
    for (const [path, message] of cases) {
      const response = await api<ErrorBody>('GET', path, { token: listener });
      expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body.error.message, path).toMatch(message);
    }
    const sqlText = await api<SearchJson>('GET', `/v1/search?q=${encodeURIComponent("'; DROP TABLE tracks; --")}`, { token: listener });
    expect(sqlText.status).toBe(200);
  });
});

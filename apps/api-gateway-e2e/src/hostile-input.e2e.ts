import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ErrorBody } from '@overture/gateway-contract';
import { apiClient, startSuite, type ApiResponse, type RunningSuite } from './suite-fixture.js';

interface PageJson {
  tracks: { id: string; title: string; artist_id: string }[];
  next_cursor: string | null;
}
interface TokenJson {
  access_token: string;
  refresh_token: string;
}

const PASSWORD = 'correct horse battery staple';

/**
 * Cheap requests a hostile or careless client can send, through the gateway of a real suite: none
 * may answer 500, and none may hurt other users (open a breaker, exhaust a service's connections).
 */
describe('hostile input through the gateway', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let metadataDb: pg.Client;
  let listener: string;

  const expectError = (response: ApiResponse, status: number, reason: string) => {
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect((response.body as ErrorBody).error.reason, JSON.stringify(response.body)).toBe(reason);
  };
  const signUp = async () => {
    const email = `hostile-${randomUUID()}@example.com`;
    const registered = await api('POST', '/v1/auth/register', { body: { email, password: PASSWORD, display_name: 'Eve' } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    return email;
  };
  const signIn = async (email: string): Promise<TokenJson> => {
    const response = await api<TokenJson>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', username: email, password: PASSWORD },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };
  /** Sessions ever opened on metadata's database (PostgreSQL's own count). */
  const metadataSessions = async (): Promise<number> => {
    await metadataDb.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await metadataDb.query<{ sessions: string }>(
      'SELECT sessions FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.sessions);
  };

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), {
      demoTracks: 1500,
      extraEnv: { auth: { AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '3' } },
    });
    api = apiClient(running.baseUrl);
    listener = (await signIn(await signUp())).access_token;
    metadataDb = new pg.Client({ connectionString: running.suite.options.databaseUrls.metadata });
    await metadataDb.connect();
  });

  afterAll(async () => {
    await metadataDb?.end();
    await running?.stop();
  });

  it('answers forged, tampered and misplaced cursors with 400 INVALID_CURSOR on search, browse and artist pages', async () => {
    const browse = await api<PageJson>('GET', '/v1/browse/tracks?genres=pop&limit=2', { token: listener });
    // A word of a demo title: text search with more than one page.
    const word = encodeURIComponent(browse.body.tracks[0]!.title.split(' ')[0]!);
    const search = await api<PageJson>('GET', `/v1/search?q=${word}&limit=1`, { token: listener });
    expect(search.body.next_cursor).toBeTruthy();
    expect(browse.body.next_cursor).toBeTruthy();
    // An artist with more than one page of tracks.
    let artistId = '';
    let artistCursor = '';
    for (const track of browse.body.tracks.concat(search.body.tracks)) {
      const artist = await api<PageJson>('GET', `/v1/artists/${track.artist_id}?limit=1`, { token: listener });
      if (artist.body.next_cursor) {
        artistId = track.artist_id;
        artistCursor = artist.body.next_cursor;
        break;
      }
    }
    expect(artistCursor).not.toBe('');

    const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const [payload, mac] = browse.body.next_cursor!.split('.');
    const raisedBudget = `${json({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), s: 3 })}.${mac}`;
    const forged = [
      json({ o: 'p', t: 0, k: 100_000, d: 1 }),
      `${json({ o: 'p', t: 0, k: 100_000, d: 1 })}.${mac}`,
      json({ o: 'd', t: 0, k: 99_999_999, d: 2 ** 40 }),
      raisedBudget,
      `${payload}.${'A'.repeat(22)}`,
      'not a cursor',
    ];
    const paths = (cursor: string) => [
      `/v1/search?q=${word}&limit=1&cursor=${encodeURIComponent(cursor)}`,
      `/v1/browse/tracks?genres=pop&limit=2&cursor=${encodeURIComponent(cursor)}`,
    ];
    for (const cursor of [...forged, artistCursor]) {
      for (const path of paths(cursor)) expectError(await api('GET', path, { token: listener }), 400, 'INVALID_CURSOR');
    }
    for (const cursor of [...forged, search.body.next_cursor!, browse.body.next_cursor!]) {
      expectError(
        await api('GET', `/v1/artists/${artistId}?limit=1&cursor=${encodeURIComponent(cursor)}`, { token: listener }),
        400,
        'INVALID_CURSOR',
      );
    }
    // Cursors as issued still page on.
    expect(
      (await api('GET', `/v1/browse/tracks?genres=pop&limit=2&cursor=${encodeURIComponent(browse.body.next_cursor!)}`, { token: listener }))
        .status,
    ).toBe(200);
    expect(
      (await api('GET', `/v1/artists/${artistId}?limit=1&cursor=${encodeURIComponent(artistCursor)}`, { token: listener })).status,
    ).toBe(200);
  });

  it("never fails another user's /v1/me or refresh, however many sign-ins are throttled", async () => {
    const bystander = await signIn(await signUp());
    const target = await signUp();
    // Guesses in a row, with no other auth call between them to reset a breaker's count.
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const guess = await api('POST', '/v1/auth/token', { body: { grant_type: 'password', username: target, password: `guess-${i}` } });
      statuses.push(guess.status);
    }
    expect(
      statuses.every((s) => s === 401 || s === 429),
      JSON.stringify(statuses),
    ).toBe(true);
    // Enough throttled answers in a row to open the gateway's auth breaker (5), had they counted.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10);
    const me = await api('GET', '/v1/me', { token: bystander.access_token });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    const refreshed = await api('POST', '/v1/auth/token', {
      body: { grant_type: 'refresh_token', refresh_token: bystander.refresh_token },
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });

  it('does not open metadata connections for searches with a client budget of a few milliseconds', async () => {
    // Open metadata's pool first, so that what is counted below is the searches alone.
    const search = (budgetMs?: number, i = 0) =>
      api('GET', `/v1/search?q=${['love', 'night', 'rain', 'fire'][i % 4]}&limit=50&facets=mood,language`, {
        token: listener,
        headers: budgetMs === undefined ? {} : { 'x-request-timeout-ms': String(budgetMs) },
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => search(undefined, i)));
    const before = await metadataSessions();
    const statuses = new Map<number, number>();
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => search(1 + ((round + i) % 5), i)));
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    // Every answer is a page or a timeout, never a server error.
    expect(
      [...statuses.keys()].every((s) => s === 200 || s === 504),
      JSON.stringify([...statuses]),
    ).toBe(true);
    // A connection per cancelled search made this tens (190 timed-out searches: 79).
    expect(await metadataSessions()).toBeLessThanOrEqual(before + 2);
  });
});

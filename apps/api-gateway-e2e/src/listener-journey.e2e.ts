import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ErrorBody } from '@overture/gateway-contract';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';

interface TrackJson {
  id: string;
  title: string;
  duration_ms: number;
  attributes: { genres: string[]; moods: string[]; language: string; bpm: number };
}
interface QueueJson {
  items: { queue_item_id: string; track: TrackJson }[];
  current_queue_item_id: string | null;
  version: number;
}
interface PlayerJson {
  device_id: string;
  item: { queue_item_id: string; track: TrackJson };
  position_ms: number;
  is_playing: boolean;
  updated_at: string;
}
interface RecommendationsJson {
  strategy: string;
  tracks: { track: TrackJson; score: number; reason: string }[];
}

function expectError(response: { status: number; body: unknown }, status: number, reason?: string): ErrorBody['error'] {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  const body = response.body as ErrorBody;
  expect(body.error).toMatchObject({ status, message: expect.any(String), request_id: expect.any(String), reason: expect.any(String) });
  if (reason) expect(body.error.reason).toBe(reason);
  return body.error;
}

describe('a listener, end to end through the gateway (real apps, real PostgreSQL, real gRPC)', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let token: string;
  let refreshToken: string;
  const email = `listener-${Date.now()}@example.com`;
  const device = 'phone-1';
  let rockTracks: TrackJson[] = [];
  let skipTrack: TrackJson;

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'));
    api = apiClient(running.baseUrl);
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('registers, signs in with a password, and reads /v1/me', async () => {
    const registered = await api('POST', '/v1/auth/register', { body: { email, password: 'correct horse battery', display_name: 'Ada' } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body).toMatchObject({ email, display_name: 'Ada', roles: ['listener'] });

    const again = await api('POST', '/v1/auth/register', {
      body: { email: email.toUpperCase(), password: 'another password', display_name: 'Eve' },
    });
    expectError(again, 409, 'EMAIL_TAKEN');

    const issued = await api<{ access_token: string; refresh_token: string; token_type: string; expires_in: number }>(
      'POST',
      '/v1/auth/token',
      {
        body: { grant_type: 'password', email, password: 'correct horse battery' },
      },
    );
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body.token_type).toBe('Bearer');
    expect(issued.body.expires_in).toBeGreaterThan(0);
    token = issued.body.access_token;
    refreshToken = issued.body.refresh_token;

    const me = await api('GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email, display_name: 'Ada' });
  });

  it('exchanges a refresh token for new tokens, once', async () => {
    const refreshed = await api<{ access_token: string; refresh_token: string }>('POST', '/v1/auth/token', {
      body: { grant_type: 'refresh_token', refresh_token: refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(refreshToken);
    expect((await api('GET', '/v1/me', { token: refreshed.body.access_token })).status).toBe(200);
    expectError(await api('POST', '/v1/auth/token', { body: { grant_type: 'refresh_token', refresh_token: refreshToken } }), 401);
    // Reuse detection ended the whole session, the first access token included: sign in again.
    await vi.waitFor(async () => expectError(await api('GET', '/v1/me', { token }), 401, 'SESSION_REVOKED'), {
      timeout: 5_000,
      interval: 25,
    });
    const again = await api<{ access_token: string }>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', email, password: 'correct horse battery' },
    });
    token = again.body.access_token;
  });

  it('rejects requests without a valid token with 401', async () => {
    const anonymous = await api('GET', '/v1/me');
    expectError(anonymous, 401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    expectError(await api('GET', '/v1/me', { token: `${header}.${forged}.${signature}` }), 401);
    expectError(await api('GET', '/v1/search?q=love', { token: 'not-a-jwt' }), 401);
  });

  it('searches the catalogue with filters and pages by cursor', async () => {
    const first = await api<{ tracks: TrackJson[]; next_cursor: string | null }>(
      'GET',
      '/v1/search?genre=rock&min_bpm=100&max_bpm=160&limit=5',
      { token },
    );
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.tracks).toHaveLength(5);
    for (const track of first.body.tracks) {
      expect(track.attributes.genres).toContain('rock');
      expect(track.attributes.bpm).toBeGreaterThanOrEqual(100);
      expect(track.attributes.bpm).toBeLessThanOrEqual(160);
    }
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await api<{ tracks: TrackJson[] }>(
      'GET',
      `/v1/search?genre=rock&min_bpm=100&max_bpm=160&limit=5&cursor=${encodeURIComponent(first.body.next_cursor!)}`,
      { token },
    );
    expect(second.status).toBe(200);
    const firstIds = new Set(first.body.tracks.map((t) => t.id));
    expect(second.body.tracks.some((t) => firstIds.has(t.id))).toBe(false);
    // Single-genre rock tracks to play, and a classical one to skip: a clear taste to learn.
    rockTracks = [...first.body.tracks, ...second.body.tracks].filter((t) => t.attributes.genres.length === 1);
    expect(rockTracks.length).toBeGreaterThanOrEqual(3);
    const classical = await api<{ tracks: TrackJson[] }>('GET', '/v1/search?genre=classical&limit=20', { token });
    skipTrack = classical.body.tracks.find((t) => t.attributes.genres.length === 1)!;
    expect(skipTrack).toBeDefined();

    const text = rockTracks[0]!.title.split(' ')[0]!;
    const byText = await api<{ tracks: TrackJson[] }>('GET', `/v1/search?q=${encodeURIComponent(text)}&limit=10`, { token });
    expect(byText.status).toBe(200);
    expect(byText.body.tracks.length).toBeGreaterThan(0);

    const one = await api<TrackJson>('GET', `/v1/tracks/${rockTracks[0]!.id}`, { token });
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(rockTracks[0]!.id);

    const unknown = '00000000-0000-4000-8000-000000000000';
    const batch = await api<{ tracks: TrackJson[]; missing_ids: string[] }>(
      'GET',
      `/v1/tracks?ids=${rockTracks[1]!.id},${unknown},${rockTracks[0]!.id}`,
      { token },
    );
    expect(batch.status).toBe(200);
    expect(batch.body.tracks.map((t) => t.id)).toEqual([rockTracks[1]!.id, rockTracks[0]!.id]);
    expect(batch.body.missing_ids).toEqual([unknown]);
  });

  it('answers bad input with 400 and a reason, unknown things with 404', async () => {
    expect(expectError(await api('GET', '/v1/search?min_bpm=fast', { token }), 400).message).toMatch(/min_bpm/);
    expect(expectError(await api('GET', '/v1/search?limit=100000', { token }), 400).message).toMatch(/limit/);
    expectError(await api('GET', '/v1/search?cursor=bm90LWEtY3Vyc29y', { token }), 400);
    expectError(await api('GET', "/v1/search?genre=rock'%20OR%201=1--", { token }), 400);
    expectError(await api('POST', '/v1/me/player/queue', { token, body: { track_ids: 'abc' } }), 400);
    expectError(await api('POST', '/v1/me/player/queue', { token, body: { track_ids: ['00000000-0000-4000-8000-000000000000'] } }), 400);
    const malformed = await fetch(`${running.baseUrl}/v1/me/player/queue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"track_ids": [',
    });
    expectError({ status: malformed.status, body: await malformed.json() }, 400);
    expectError(await api('GET', '/v1/tracks/00000000-0000-4000-8000-000000000000', { token }), 404, 'TRACK_NOT_FOUND');
    expectError(await api('GET', '/v1/tracks/not-a-uuid', { token }), 400);
    expectError(await api('GET', '/v1/no-such-route', { token }), 404);
  });

  it('queues tracks, plays through them, and reports progress', async () => {
    const [a, , c] = rockTracks;
    const b = skipTrack;
    const added = await api<QueueJson>('POST', '/v1/me/player/queue', { token, body: { track_ids: [a!.id, b!.id, c!.id, a!.id] } });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.items.map((i) => i.track.id)).toEqual([a!.id, b!.id, c!.id, a!.id]);
    expect(new Set(added.body.items.map((i) => i.queue_item_id)).size).toBe(4);

    const stale = await api('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: [b!.id] },
      headers: { 'if-match': `"${added.body.version - 1}"` },
    });
    expectError(stale, 409);

    const removed = await api<QueueJson>('DELETE', `/v1/me/player/queue/items/${added.body.items[3]!.queue_item_id}`, { token });
    expect(removed.status).toBe(200);
    expect(removed.body.items).toHaveLength(3);
    expectError(await api('DELETE', `/v1/me/player/queue/items/${added.body.items[3]!.queue_item_id}`, { token }), 404);

    const first = await api<PlayerJson>('POST', '/v1/me/player/next', { token, body: { device_id: device } });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.item.track.id).toBe(a!.id);
    expect(first.body.device_id).toBe(device);

    // Track a plays for 40 s (a play); b is skipped after 5 s; c plays to 35 s.
    const progress = (itemId: string, position: number) =>
      api<PlayerJson>('POST', '/v1/me/player/progress', {
        token,
        body: { device_id: device, queue_item_id: itemId, position_ms: position, is_playing: true },
      });
    expect((await progress(first.body.item.queue_item_id, 40_000)).status).toBe(200);
    const second = await api<PlayerJson>('POST', '/v1/me/player/next', { token, body: { device_id: device } });
    expect(second.body.item.track.id).toBe(b!.id);
    expect((await progress(second.body.item.queue_item_id, 5_000)).status).toBe(200);
    const third = await api<PlayerJson>('POST', '/v1/me/player/next', { token, body: { device_id: device } });
    expect(third.body.item.track.id).toBe(c!.id);
    const reported = await progress(third.body.item.queue_item_id, 35_000);
    expect(reported.status).toBe(200);
    expect(reported.body.position_ms).toBe(35_000);

    expectError(await progress(third.body.item.queue_item_id, c!.duration_ms + 1), 400);
    expectError(await api('POST', '/v1/me/player/next', { token, body: { device_id: device } }), 409, 'NO_NEXT_TRACK');

    const player = await api<PlayerJson>('GET', '/v1/me/player', { token });
    expect(player.status).toBe(200);
    expect(player.body).toMatchObject({ device_id: device, position_ms: 35_000, is_playing: true });
    expect(player.body.item.track.id).toBe(c!.id);

    const queue = await api<QueueJson>('GET', '/v1/me/player/queue', { token });
    expect(queue.body.current_queue_item_id).toBe(third.body.item.queue_item_id);
    expect(queue.headers.get('etag')).toBe(`"${queue.body.version}"`);
  });

  it('recommends from the plays it learned, excluding what was played', async () => {
    const played = new Set([rockTracks[0]!.id, rockTracks[2]!.id, skipTrack.id]);
    let recommendations: RecommendationsJson | undefined;
    // Plays reach recommendation through playback-queue's outbox, asynchronously.
    await vi.waitFor(
      async () => {
        const response = await api<RecommendationsJson>('GET', '/v1/recommendations?limit=10', { token });
        expect(response.status).toBe(200);
        expect(response.body.strategy).toBe('personalised');
        recommendations = response.body;
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(recommendations!.tracks.length).toBeGreaterThan(0);
    for (const item of recommendations!.tracks) {
      expect(played.has(item.track.id)).toBe(false);
      expect(item.reason).toEqual(expect.any(String));
    }
    // The listener played rock and skipped classical: most recommendations share the taste, none is classical only.
    const rock = recommendations!.tracks.filter((item) => item.track.attributes.genres.includes('rock'));
    expect(
      rock.length,
      JSON.stringify(recommendations!.tracks.map((i) => [i.track.attributes.genres, i.reason, i.score])),
    ).toBeGreaterThanOrEqual(Math.ceil(recommendations!.tracks.length / 2));
    expect(recommendations!.tracks.some((item) => item.track.attributes.genres.join() === 'classical')).toBe(false);
  });

  it('gives a new listener popular tracks', async () => {
    const other = `other-${Date.now()}@example.com`;
    await api('POST', '/v1/auth/register', { body: { email: other, password: 'correct horse battery', display_name: 'Bo' } });
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', email: other, password: 'correct horse battery' },
    });
    const response = await api<RecommendationsJson>('GET', '/v1/recommendations', { token: issued.body.access_token });
    expect(response.status).toBe(200);
    expect(response.body.strategy).toBe('popular');
    expect(response.body.tracks.length).toBeGreaterThan(0);
    // Another listener's queue is not visible.
    const queue = await api<QueueJson>('GET', '/v1/me/player/queue', { token: issued.body.access_token });
    expect(queue.body.items).toEqual([]);
  });

  it('answers 503 promptly when a service is down, and degrades recommendations', async () => {
    await running.suite.stop('playback-queue');
    const queue = await api('GET', '/v1/me/player/queue', { token });
    expectError(queue, 503);

    await running.suite.stop('recommendation');
    const degraded = await api<RecommendationsJson>('GET', '/v1/recommendations', { token });
    expect(degraded.status).toBe(200);
    expect(degraded.body.strategy).toBe('fallback_popular');
    expect(degraded.body.tracks.length).toBeGreaterThan(0);

    // The gateway itself is still healthy and other paths still work.
    expect((await api('GET', '/v1/search?genre=jazz&limit=3', { token })).status).toBe(200);
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ErrorBody } from '@overture/gateway-contract';
import { apiClient, startSuite, type ApiResponse, type RunningSuite } from './suite-fixture.js';

interface TrackJson {
  id: string;
  duration_ms: number;
}
interface QueueJson {
  items: { queue_item_id: string; track: TrackJson | null }[];
  current_queue_item_id: string | null;
  version: number;
  shuffle: boolean;
  repeat: string;
}
interface StateJson {
  device_id: string;
  item: { queue_item_id: string; track: TrackJson | null } | null;
  position_ms: number;
  is_playing: boolean;
  playback_rate: number;
  updated_at: string;
  server_time: string;
  version: number;
}
interface ProgressJson extends StateJson {
  applied: boolean;
  ignored_reason: string | null;
}

function expectError(response: ApiResponse, status: number, reason: string): ErrorBody['error'] {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  const { error } = response.body as ErrorBody;
  expect(error.reason).toBe(reason);
  return error;
}

describe('queue, playback state, history and play delivery, end to end through the gateway', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let tracks: TrackJson[] = [];

  /** A new listener's access token. */
  const signUp = async (name: string): Promise<string> => {
    const email = `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
    const password = 'correct horse battery';
    expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: name } })).status).toBe(201);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', { body: { grant_type: 'password', email, password } });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    return issued.body.access_token;
  };
  const ids = (queue: QueueJson) => queue.items.map((i) => i.queue_item_id);

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 300 });
    api = apiClient(running.baseUrl);
    const token = await signUp('scout');
    const found = await api<{ tracks: TrackJson[] }>('GET', '/v1/search?limit=20', { token });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    tracks = found.body.tracks.filter((t) => t.duration_ms > 60_000);
    expect(tracks.length).toBeGreaterThanOrEqual(6);
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('edits the queue: add at the end and next, move, remove, clear, replace, shuffle and repeat, with the version as ETag', async () => {
    const token = await signUp('editor');
    const [t0, t1, t2, t3] = tracks as [TrackJson, TrackJson, TrackJson, TrackJson];
    const added = await api<QueueJson>('POST', '/v1/me/player/queue', { token, body: { track_ids: [t0.id, t1.id, t1.id] } });
    expect(added.status).toBe(201);
    expect(added.headers.get('etag')).toBe(`"${added.body.version}"`);
    const [a, b, c] = ids(added.body);
    expect(new Set([a, b, c]).size).toBe(3);

    await api('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' } });
    const next = await api<QueueJson>('POST', '/v1/me/player/queue', { token, body: { track_ids: [t2.id], position: 'next' } });
    const inserted = ids(next.body)[1]!;
    expect(next.body.items.map((i) => i.track?.id)).toEqual([t0.id, t2.id, t1.id, t1.id]);

    const moved = await api<QueueJson>('POST', `/v1/me/player/queue/items/${c}/move`, { token, body: { before_queue_item_id: inserted } });
    expect(ids(moved.body)).toEqual([a, c, inserted, b]);
    const removed = await api<QueueJson>('POST', '/v1/me/player/queue/remove', { token, body: { queue_item_ids: [inserted, b] } });
    expect(ids(removed.body)).toEqual([a, c]);

    const shuffled = await api<QueueJson>('PUT', '/v1/me/player/shuffle', { token, body: { shuffle: true } });
    expect(shuffled.body.shuffle).toBe(true);
    const repeating = await api<QueueJson>('PUT', '/v1/me/player/repeat', { token, body: { repeat: 'context' } });
    expect(repeating.body).toMatchObject({ repeat: 'context', shuffle: true });

    const cleared = await api<QueueJson>('DELETE', '/v1/me/player/queue?scope=upcoming', { token });
    expect(ids(cleared.body)).toEqual([a]);
    const replaced = await api<QueueJson>('PUT', '/v1/me/player/queue', { token, body: { track_ids: [t3.id, t0.id] } });
    expect(replaced.body).toMatchObject({ current_queue_item_id: null });
    expect(replaced.body.items.map((i) => i.track?.id).sort()).toEqual([t3.id, t0.id].sort());

    const unchanged = await api('GET', '/v1/me/player/queue', { token, headers: { 'if-none-match': `"${replaced.body.version}"` } });
    expect(unchanged.status).toBe(304);
    const emptied = await api<QueueJson>('DELETE', '/v1/me/player/queue?scope=all', { token });
    expect(emptied.body.items).toEqual([]);
  });

  it('answers a stale If-Match with 409 and the current queue, changing nothing', async () => {
    const token = await signUp('stale');
    const first = await api<QueueJson>('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[0]!.id] } });
    await api('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[1]!.id] } });
    const stale = await api<ErrorBody & { queue: QueueJson }>('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: [tracks[2]!.id] },
      headers: { 'if-match': `"${first.body.version}"` },
    });
    expectError(stale, 409, 'VERSION_MISMATCH');
    expect(stale.body.queue.version).toBe(first.body.version + 1);
    expect(stale.headers.get('etag')).toBe(`"${first.body.version + 1}"`);
    const queue = await api<QueueJson>('GET', '/v1/me/player/queue', { token });
    expect(queue.body).toEqual(stale.body.queue);
  });

  it('applies concurrent edits from two devices without losing or duplicating an item', async () => {
    const token = await signUp('two-devices');
    const initial = await api<QueueJson>('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: tracks.slice(0, 6).map((t) => t.id) },
    });
    const start = ids(initial.body);
    const phone = tracks
      .slice(0, 6)
      .map((t) =>
        api<QueueJson>('POST', '/v1/me/player/queue', { token, body: { track_ids: [t.id] }, headers: { 'x-device-id': 'phone' } }),
      );
    const laptop = [
      ...start.slice(0, 3).map((id) => api('DELETE', `/v1/me/player/queue/items/${id}`, { token, headers: { 'x-device-id': 'laptop' } })),
      api('POST', `/v1/me/player/queue/items/${start[5]}/move`, { token, body: { before_queue_item_id: start[3] } }),
    ];
    const responses = await Promise.all([...phone, ...laptop]);
    for (const response of responses) expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);

    const queue = (await api<QueueJson>('GET', '/v1/me/player/queue', { token })).body;
    expect(queue.items).toHaveLength(9);
    expect(new Set(ids(queue)).size).toBe(9);
    for (const id of start.slice(0, 3)) expect(ids(queue)).not.toContain(id);
    expect(ids(queue).indexOf(start[5]!)).toBeLessThan(ids(queue).indexOf(start[3]!));
    expect(queue.version).toBe(initial.body.version + responses.length);
  });

  it('hands playback over between devices at the extrapolated position; ignores out-of-order and foreign heartbeats', async () => {
    const token = await signUp('handoff');
    await api('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[0]!.id, tracks[1]!.id] } });
    expectError(await api('PUT', '/v1/me/player', { token, body: { device_id: 'laptop' } }), 409, 'NO_ACTIVE_DEVICE');
    const started = await api<StateJson>('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' } });
    const item = started.body.item!.queue_item_id;
    const beat = (device: string, position: number, at?: number, extra: Record<string, unknown> = {}) =>
      api<ProgressJson>('POST', '/v1/me/player/progress', {
        token,
        body: { device_id: device, queue_item_id: item, position_ms: position, is_playing: true, client_timestamp_ms: at, ...extra },
      });

    expect((await beat('phone', 20_000, 2_000)).body.applied).toBe(true);
    const late = await beat('phone', 15_000, 1_000);
    expect(late.body).toMatchObject({ applied: false, ignored_reason: 'STALE_REPORT', position_ms: 20_000 });
    const foreign = await beat('laptop', 1_000, 5_000);
    expect(foreign.body).toMatchObject({ applied: false, ignored_reason: 'NOT_ACTIVE_DEVICE', device_id: 'phone' });

    const reported = await beat('phone', 40_000, 3_000);
    const before = Date.now();
    const moved = await api<StateJson>('PUT', '/v1/me/player', { token, body: { device_id: 'laptop' } });
    const after = Date.now();
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ device_id: 'laptop', is_playing: true, item: { queue_item_id: item } });
    // Resumed where the phone would be now: its last position plus the time since, never less, never far more.
    const sinceReport = after - new Date(reported.body.updated_at).getTime();
    expect(moved.body.position_ms).toBeGreaterThanOrEqual(40_000);
    expect(moved.body.position_ms).toBeLessThanOrEqual(40_000 + sinceReport + (after - before));

    expect((await beat('phone', 41_000, 4_000)).body.ignored_reason).toBe('NOT_ACTIVE_DEVICE');
    const state = await api<StateJson>('GET', '/v1/me/player', { token });
    expect(state.body).toMatchObject({ device_id: 'laptop', version: moved.body.version });
    expect(Date.parse(state.body.server_time)).toBeGreaterThan(0);

    const devices = await api<{ devices: { device_id: string; is_active: boolean; last_seen_at: string }[] }>(
      'GET',
      '/v1/me/player/devices',
      {
        token,
      },
    );
    expect(devices.body.devices.map((d) => [d.device_id, d.is_active]).sort()).toEqual([
      ['laptop', true],
      ['phone', false],
    ]);
  });

  it('answers bad input with 4xx and a clear reason, applying nothing', async () => {
    const token = await signUp('careless');
    const queue = await api<QueueJson>('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[0]!.id] } });
    const item = ids(queue.body)[0]!;
    expectError(await api('POST', '/v1/me/player/previous', { token, body: { device_id: 'phone' } }), 409, 'NO_PREVIOUS_TRACK');
    await api('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' } });
    expectError(await api('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' } }), 409, 'NO_NEXT_TRACK');
    const past = await api('POST', '/v1/me/player/progress', {
      token,
      body: { device_id: 'phone', queue_item_id: item, position_ms: tracks[0]!.duration_ms + 1, is_playing: true },
    });
    expectError(past, 400, 'POSITION_OUT_OF_RANGE');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectError(
      await api('POST', `/v1/me/player/queue/items/${item}/move`, { token, body: { before_queue_item_id: unknown } }),
      404,
      'QUEUE_ITEM_NOT_FOUND',
    );
    expectError(
      await api('POST', '/v1/me/player/queue/remove', { token, body: { queue_item_ids: [item, unknown] } }),
      404,
      'QUEUE_ITEM_NOT_FOUND',
    );
    expectError(await api('PUT', '/v1/me/player/repeat', { token, body: { repeat: 'forever' } }), 400, 'INVALID_REQUEST');
    expectError(await api('DELETE', '/v1/me/player/queue', { token }), 400, 'INVALID_REQUEST');
    expectError(await api('POST', '/v1/me/player/queue', { token, body: { track_ids: [unknown] } }), 400, 'UNKNOWN_TRACK');
    expectError(await api('GET', '/v1/me/player/recently-played?cursor=bm9wZQ', { token }), 400, 'INVALID_CURSOR');
    const after = await api<QueueJson>('GET', '/v1/me/player/queue', { token });
    expect(ids(after.body)).toEqual([item]);
  });

  it('keeps plays while recommendation is down and delivers each exactly once when it is back; lists them in recently played', async () => {
    const token = await signUp('offline-plays');
    const playCount = 4;
    const queue = await api<QueueJson>('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: tracks.slice(0, playCount).map((t) => t.id) },
    });
    const userId = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;

    await running.suite.stop('recommendation');
    for (const item of ids(queue.body)) {
      const moved = await api('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' } });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      const played = await api('POST', '/v1/me/player/progress', {
        token,
        body: { device_id: 'phone', queue_item_id: item, position_ms: 45_000, is_playing: true },
      });
      expect(played.status, JSON.stringify(played.body)).toBe(200);
    }
    // Recently played answers from playback-queue alone, recommendation or not.
    const page1 = await api<{ items: { queue_item_id: string; kind: string }[]; next_cursor: string | null }>(
      'GET',
      '/v1/me/player/recently-played?limit=3',
      { token },
    );
    expect(page1.body.items.map((i) => i.queue_item_id)).toEqual(ids(queue.body).reverse().slice(0, 3));
    const page2 = await api<{ items: { queue_item_id: string }[]; next_cursor: string | null }>(
      'GET',
      `/v1/me/player/recently-played?limit=3&cursor=${page1.body.next_cursor}`,
      { token },
    );
    expect(page2.body).toMatchObject({ items: [{ queue_item_id: ids(queue.body)[0] }], next_cursor: null });

    running.suite.start('recommendation');
    // Read recommendation's own data (e2e only): the gateway shows its effect, not a count of events.
    const db = new pg.Client({ connectionString: running.suite.options.databaseUrls.recommendation });
    await db.connect();
    try {
      await vi.waitFor(
        async () => {
          const { rows } = await db.query<{ track_id: string; kind: string }>(
            'SELECT track_id, kind FROM play_events WHERE user_id = $1 ORDER BY occurred_at',
            [userId],
          );
          expect(rows.map((r) => [r.track_id, r.kind])).toEqual(tracks.slice(0, playCount).map((t) => [t.id, 'play']));
        },
        { timeout: 30_000, interval: 250 },
      );
    } finally {
      await db.end();
    }
    await vi.waitFor(
      async () => {
        const recommended = await api<{ strategy: string }>('GET', '/v1/recommendations?limit=5', { token });
        expect(recommended.body.strategy).toBe('personalised');
      },
      { timeout: 15_000, interval: 250 },
    );
  });
});

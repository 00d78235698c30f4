import type { ErrorBody } from '@overture/gateway-contract';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { apiClient, startSuite, type ApiResponse, type RunningSuite } from './suite-fixture.js';

interface TrackJson {
  id: string;
  duration_ms: number;
}
interface QueueJson {
  items: { queue_item_id: string; track: TrackJson | null }[];
  version: number;
  partial: boolean;
}
interface StateJson {
  item: { queue_item_id: string; track: TrackJson | null } | null;
  partial: boolean;
}
interface HistoryJson {
  items: { queue_item_id: string; kind: 'play' | 'skip' }[];
}

describe('Idempotency-Key on writes, and committed changes answered as successes, end to end through the gateway', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let tracks: TrackJson[] = [];

  const signUp = async (name: string): Promise<string> => {
    const email = `${name}-${randomUUID()}@example.com`;
    const password = 'correct horse battery';
    expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: name } })).status).toBe(201);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', { body: { grant_type: 'password', email, password } });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    return issued.body.access_token;
  };
  const keyed = (key: string) => ({ 'idempotency-key': key });
  const expectError = (response: ApiResponse, status: number, reason: string): void => {
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect((response.body as ErrorBody).error.reason).toBe(reason);
  };
  const history = async (token: string) =>
    (await api<HistoryJson>('GET', '/v1/me/player/recently-played?include_skips=true&limit=50', { token })).body.items;
  /** A listener with three tracks queued and the first one playing on "phone". */
  const listening = async (name: string): Promise<string> => {
    const token = await signUp(name);
    const added = await api('POST', '/v1/me/player/queue', { token, body: { track_ids: tracks.slice(0, 3).map((t) => t.id) } });
    expect(added.status).toBe(201);
    expect((await api('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' } })).status).toBe(200);
    return token;
  };

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 200 });
    api = apiClient(running.baseUrl);
    const token = await signUp('scout');
    const found = await api<{ tracks: TrackJson[] }>('GET', '/v1/search?limit=20', { token });
    tracks = found.body.tracks.filter((t) => t.duration_ms > 60_000);
    expect(tracks.length).toBeGreaterThanOrEqual(3);
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('adds to the queue once when the add is retried with its key, answering the first answer again', async () => {
    const token = await signUp('adder');
    const key = randomUUID();
    const body = { track_ids: [tracks[0]!.id, tracks[1]!.id] };
    const first = await api<QueueJson>('POST', '/v1/me/player/queue', { token, body, headers: keyed(key) });
    const retry = await api<QueueJson>('POST', '/v1/me/player/queue', { token, body, headers: keyed(`"${key}"`) });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
    const queue = await api<QueueJson>('GET', '/v1/me/player/queue', { token });
    expect(queue.body.items).toHaveLength(2);
    expect(queue.body.version).toBe(first.body.version);
  });

  it('skips once when next is retried with its key: one skip event, the same answer', async () => {
    const token = await listening('skipper');
    const key = randomUUID();
    const first = await api<StateJson>('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' }, headers: keyed(key) });
    const retry = await api<StateJson>('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' }, headers: keyed(key) });
    expect(first.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect((await history(token)).map((event) => event.kind)).toEqual(['skip']);
  });

  it('applies a burst of identical concurrent requests once: every answer is the first one or 409 in flight', async () => {
    const token = await listening('burst');
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        api<StateJson>('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' }, headers: keyed(key) }),
      ),
    );
    const succeeded = answers.filter((a) => a.status === 200);
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    for (const answer of succeeded) expect(answer.body).toEqual(succeeded[0]!.body);
    for (const answer of answers.filter((a) => a.status !== 200)) expectError(answer, 409, 'IDEMPOTENCY_KEY_IN_USE');
    expect((await history(token)).map((event) => event.kind)).toEqual(['skip']);
  });

  it('refuses the same key with another request (422) and a malformed key (400), applying neither', async () => {
    const token = await signUp('reuser');
    const key = randomUUID();
    await api('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[0]!.id] }, headers: keyed(key) });
    const other = await api('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[1]!.id] }, headers: keyed(key) });
    expectError(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    const next = await api('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: [tracks[0]!.id], position: 'next' },
      headers: keyed(key),
    });
    expectError(next, 422, 'IDEMPOTENCY_KEY_REUSED');
    for (const bad of ['', 'has space', 'x'.repeat(256), '"unterminated']) {
      const refused = await api('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[2]!.id] }, headers: keyed(bad) });
      expectError(refused, 400, 'INVALID_IDEMPOTENCY_KEY');
    }
    expect((await api<QueueJson>('GET', '/v1/me/player/queue', { token })).body.items).toHaveLength(1);
    // Keys are each user's own: another listener's identical key and request is applied for them.
    const stranger = await signUp('stranger');
    const theirs = await api('POST', '/v1/me/player/queue', { token: stranger, body: { track_ids: [tracks[1]!.id] }, headers: keyed(key) });
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  });

  it('creates one account when a registration is retried with its key, answering the first answer again', async () => {
    const key = randomUUID();
    const body = { email: `retry-${randomUUID()}@example.com`, password: 'correct horse battery', display_name: 'Retry' };
    const first = await api('POST', '/v1/auth/register', { body, headers: keyed(key) });
    const retry = await api('POST', '/v1/auth/register', { body, headers: keyed(key) });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    // Without the key it is a new registration of a taken email.
    expectError(await api('POST', '/v1/auth/register', { body }), 409, 'EMAIL_TAKEN');
  });

  it('creates, updates and deletes a track once when a curator retries each with its key', async () => {
    const email = `curator-${randomUUID()}@example.com`;
    const password = 'correct horse battery';
    expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: 'Curator' } })).status).toBe(201);
    await running.suite.runCommand('auth', ['grant-role', email, 'curator']);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', { body: { grant_type: 'password', email, password } });
    const token = issued.body.access_token;
    const body = {
      title: `Retried ${randomUUID()}`,
      artist_name: 'Idempotent Artist',
      album_title: 'Once',
      duration_ms: 200_000,
      isrc: `ZZIDM${String(Date.now() % 10_000_000).padStart(7, '0')}`,
      release_date: '2024-05-01',
      popularity: 10,
      attributes: { genres: ['folk'], moods: ['calm'], language: 'en', bpm: 100, energy: 0.4, valence: 0.5, danceability: 0.5 },
    };

    const createKey = randomUUID();
    const created = await api<TrackJson & { version: number }>('POST', '/v1/tracks', { token, body, headers: keyed(createKey) });
    const createdAgain = await api<TrackJson>('POST', '/v1/tracks', { token, body, headers: keyed(createKey) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(createdAgain.status).toBe(201);
    expect(createdAgain.body).toEqual(created.body);
    expect(createdAgain.headers.get('idempotent-replayed')).toBe('true');
    const found = await api<{ tracks: TrackJson[] }>('GET', `/v1/search?q=${encodeURIComponent(body.title)}`, { token });
    expect(found.body.tracks.map((t) => t.id)).toEqual([created.body.id]);

    // A replayed update answers version 2 again: without the key, the same If-Match would conflict.
    const updateKey = randomUUID();
    const update = { token, body: { ...body, title: `${body.title} II` }, headers: { ...keyed(updateKey), 'if-match': '"1"' } };
    const updated = await api<{ version: number }>('PUT', `/v1/tracks/${created.body.id}`, update);
    const updatedAgain = await api<{ version: number }>('PUT', `/v1/tracks/${created.body.id}`, update);
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updatedAgain.status).toBe(200);
    expect(updatedAgain.body).toEqual(updated.body);
    expect(updated.body.version).toBe(2);
    expectError(await api('PUT', `/v1/tracks/${created.body.id}`, { ...update, headers: { 'if-match': '"1"' } }), 409, 'VERSION_CONFLICT');

    const deleteKey = randomUUID();
    const remove = { token, headers: { ...keyed(deleteKey), 'if-match': '"2"' } };
    const deleted = await api('DELETE', `/v1/tracks/${created.body.id}`, remove);
    const deletedAgain = await api('DELETE', `/v1/tracks/${created.body.id}`, remove);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
    expect(deletedAgain.status).toBe(204);
    expect(deletedAgain.headers.get('idempotent-replayed')).toBe('true');
    expect((await api('GET', `/v1/tracks/${created.body.id}`, { token })).status).toBe(404);
  });

  it('lists the header and the key errors on each write route of the OpenAPI document', async () => {
    const doc = await api<{
      paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>>;
    }>('GET', '/docs/json');
    const writes = [
      ['/v1/me/player/queue', 'post'],
      ['/v1/me/player/next', 'post'],
      ['/v1/me/player/previous', 'post'],
      ['/v1/me/player/progress', 'post'],
      ['/v1/me/player', 'put'],
      ['/v1/auth/register', 'post'],
      ['/v1/tracks', 'post'],
    ] as const;
    for (const [path, method] of writes) {
      const operation = doc.body.paths[path]![method]!;
      expect(operation.parameters?.map((p) => p.name)).toContain('Idempotency-Key');
      expect(JSON.stringify(operation.responses['422'])).toContain('IDEMPOTENCY_KEY_REUSED');
      expect(JSON.stringify(operation.responses['409'])).toContain('IDEMPOTENCY_KEY_IN_USE');
    }
  });

  // Last: it stops and restarts metadata.
  it('answers a committed change as a success with the tracks marked missing when metadata is down, and applies it once', async () => {
    const token = await listening('offline');
    const [, second] = (await api<QueueJson>('GET', '/v1/me/player/queue', { token })).body.items;
    await running.suite.stop('metadata');

    const key = randomUUID();
    const skipped = await api<StateJson>('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' }, headers: keyed(key) });
    expect(skipped.status, JSON.stringify(skipped.body)).toBe(200);
    expect(skipped.body).toMatchObject({ partial: true, item: { queue_item_id: second!.queue_item_id, track: null } });
    const retried = await api<StateJson>('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' }, headers: keyed(key) });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(skipped.body);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');

    const progress = { device_id: 'phone', queue_item_id: second!.queue_item_id, position_ms: 45_000, is_playing: true };
    const played = await api<StateJson & { applied: boolean }>('POST', '/v1/me/player/progress', {
      token,
      body: progress,
      headers: keyed('p-1'),
    });
    expect(played.status, JSON.stringify(played.body)).toBe(200);
    expect(played.body).toMatchObject({ applied: true, partial: true });
    expect((await api('POST', '/v1/me/player/progress', { token, body: progress, headers: keyed('p-1') })).status).toBe(200);

    const moved = await api<StateJson>('PUT', '/v1/me/player', { token, body: { device_id: 'laptop' } });
    expect(moved.status).toBe(200);
    expect(moved.body.partial).toBe(true);

    // A read has nothing to apply: it still says the catalogue is down.
    expectError(await api('GET', '/v1/me/player', { token }), 503, 'SERVICE_UNAVAILABLE');

    running.suite.start('metadata');
    // One skip (the first item, left by next) and one play: nothing twice.
    await vi.waitFor(
      async () => {
        const events = await api<HistoryJson>('GET', '/v1/me/player/recently-played?include_skips=true&limit=50', { token });
        expect(events.status).toBe(200);
        expect(events.body.items.map((event) => event.kind)).toEqual(['play', 'skip']);
      },
      { timeout: 30_000, interval: 250 },
    );
  });
});

import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { Replica } from '../../../tools/suite/suite.ts';
import { metricSum } from './metric-sum.js';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';
import { Device } from './ws-device.js';

const WATCH_EVENTS = 'overture.playback.v1.PlaybackService/WatchEvents';

describe('real-time push over /v1/ws, two gateway replicas and two playback-queue replicas', () => {
  let running: RunningSuite;
  let gateway2: Replica;
  let playback2: Replica;
  const devices: Device[] = [];

  const signUp = async (baseUrl: string, name: string): Promise<string> => {
    const api = apiClient(baseUrl);
    const email = `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
    const password = 'correct horse battery';
    expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: name } })).status).toBe(201);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', { body: { grant_type: 'password', email, password } });
    return issued.body.access_token;
  };
  const connect = async (url: string, token: string | undefined, options?: WebSocket.ClientOptions): Promise<Device> => {
    const device = await Device.connect(url, token, options);
    devices.push(device);
    return device;
  };
  const ready = (device: Device) => device.next((m) => m.type === 'ready', 'ready');
  const someTrack = async (baseUrl: string, token: string): Promise<string> => {
    const { tracks } = (await apiClient(baseUrl)<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=1', { token })).body;
    return tracks[0]!.id;
  };

  /** Adds to the user's queue, one change after another, until stopped: the versions acknowledged. */
  const keepEditing = (baseUrl: string, token: string, trackId: string) => {
    const api = apiClient(baseUrl);
    const state = { acked: [] as number[], failed: 0, stopped: false };
    const loop = (async () => {
      while (!state.stopped) {
        const added = await api<{ version: number }>('POST', '/v1/me/player/queue', { token, body: { track_ids: [trackId] } }).catch(
          () => undefined,
        );
        if (added?.status === 201) state.acked.push(added.body.version);
        else state.failed++;
      }
    })();
    return {
      state,
      stop: async () => {
        state.stopped = true;
        await loop;
      },
    };
  };

  /** The device got every change up to the last acknowledged one, each once and in order, and no resync. */
  const expectEveryChangeOnceInOrder = async (device: Device, acked: readonly number[]) => {
    const last = acked.at(-1)!;
    await device.next((m) => m.type === 'queue.changed' && m.version === last, `the push of version ${last}`);
    const versions = device.messages.filter((m) => m.type === 'queue.changed').map((m) => m.version!);
    expect(versions[0]).toBeLessThanOrEqual(acked[0]!);
    expect(versions).toEqual(Array.from({ length: last - versions[0]! + 1 }, (_, i) => versions[0]! + i));
    expect(device.messages.filter((m) => m.type === 'resync')).toEqual([]);
  };

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 100 });
    // Gateway 1 → playback-queue 1 (the primary pair); gateway 2 → playback-queue 2. A change made
    // through one gateway is committed by one playback-queue replica and must reach devices on the other.
    playback2 = await running.suite.startReplica('playback-queue', 2);
    gateway2 = await running.suite.startReplica('api-gateway', 2, {
      env: { PLAYBACK_GRPC_URL: playback2.url, WS_PING_INTERVAL_MS: '200', WS_IDLE_TIMEOUT_MS: '1000' },
    });
  });

  afterAll(async () => {
    for (const device of devices) device.ws.terminate();
    await running?.stop();
  });

  it('pushes every change to all of the user’s devices, whichever gateway and playback replica they use', async () => {
    const token = await signUp(running.baseUrl, 'pusher');
    const other = await signUp(running.baseUrl, 'bystander');
    const phone = await connect(running.baseUrl, token);
    const laptop = await connect(gateway2.url, token);
    const speaker = await connect(gateway2.url, token);
    const stranger = await connect(running.baseUrl, other);
    await Promise.all([phone, laptop, speaker, stranger].map(ready));

    const api1 = apiClient(running.baseUrl);
    const api2 = apiClient(gateway2.url);
    const { tracks } = (await api1<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=3', { token })).body;
    const added = await api1<{ version: number }>('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: tracks.map((t) => t.id) },
      headers: { 'x-device-id': 'phone' },
    });
    for (const device of [phone, laptop, speaker]) {
      const event = await device.next(
        (m) => m.type === 'queue.changed' && m.version === added.body.version,
        'queue.changed from gateway 1',
      );
      expect(event).toMatchObject({ change: 'add', device_id: 'phone' });
    }

    // And the other way round: a change through gateway 2 (playback-queue 2) reaches gateway 1's device.
    const started = await api2<{ version: number; item: { queue_item_id: string } }>('POST', '/v1/me/player/next', {
      token,
      body: { device_id: 'laptop' },
    });
    for (const device of [phone, laptop, speaker]) {
      const event = await device.next(
        (m) => m.type === 'player.state_changed' && m.version === started.body.version,
        'player.state_changed from gateway 2',
      );
      expect(event.state).toMatchObject({ device_id: 'laptop', item: { queue_item_id: started.body.item.queue_item_id }, position_ms: 0 });
    }
    expect(stranger.messages.filter((m) => m.type !== 'ready')).toEqual([]);
  });

  it('resumes after a reconnect: sends what changed since the versions the client had', async () => {
    const token = await signUp(running.baseUrl, 'resumer');
    const api = apiClient(running.baseUrl);
    const { tracks } = (await api<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=2', { token })).body;
    const first = await api<{ version: number }>('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[0]!.id] } });
    // Changes made while the device was away.
    const second = await api<{ version: number; items: { queue_item_id: string }[] }>('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: [tracks[1]!.id] },
    });

    const device = await connect(gateway2.url, token);
    await ready(device);
    device.send({ type: 'resume', queue_version: first.body.version, state_version: null });
    const resumed = await device.next((m) => m.type === 'resumed', 'resumed');
    expect(resumed.queue_version).toBe(second.body.version);
    // The push of the second add may still be on its way to this replica: the answer to resume is marked 'resume'.
    const queue = await device.next((m) => m.type === 'queue.changed' && m.change === 'resume', 'the full queue');
    expect(queue.queue?.items.map((i) => i.queue_item_id)).toEqual(second.body.items.map((i) => i.queue_item_id));
    // Nothing played yet: the state was not sent.
    expect(device.messages.some((m) => m.type === 'player.state_changed')).toBe(false);

    device.send({ type: 'resume', queue_version: second.body.version, state_version: null });
    await vi.waitFor(() => expect(device.messages.filter((m) => m.type === 'resumed')).toHaveLength(2), { timeout: 10_000 });
    expect(device.messages.filter((m) => m.type === 'queue.changed' && m.change === 'resume')).toHaveLength(1);
  });

  it('authenticates: refuses a bad token at the handshake, accepts an auth message, closes on a bad one', async () => {
    const refused = new WebSocket(`${running.baseUrl.replace(/^http/, 'ws')}/v1/ws`, ['overture.v1', 'bearer.not-a-token']);
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(401);
    refused.on('error', () => undefined);
    refused.terminate();

    const token = await signUp(running.baseUrl, 'late-auth');
    const late = await connect(running.baseUrl, undefined);
    late.send({ type: 'resume', queue_version: 0, state_version: null });
    await late.next((m) => m.type === 'error' && m.reason === 'UNAUTHENTICATED', 'an error before auth');
    late.send({ type: 'auth', token });
    await ready(late);

    const wrong = await connect(running.baseUrl, undefined);
    wrong.send({ type: 'auth', token: 'not-a-token' });
    await vi.waitFor(() => expect(wrong.closed?.code).toBe(4401), { timeout: 10_000 });

    const garbled = await connect(running.baseUrl, token);
    garbled.ws.send('not json');
    await garbled.next((m) => m.type === 'error' && m.reason === 'INVALID_MESSAGE', 'an error for a malformed message');
  });

  it('pings, and closes a connection that stays silent past the idle timeout', async () => {
    const token = await signUp(running.baseUrl, 'silent');
    const lively = await connect(gateway2.url, token);
    // A client that never answers pings (and sends nothing) is closed after WS_IDLE_TIMEOUT_MS (1 s here).
    const silent = await connect(gateway2.url, token, { autoPong: false });
    let pings = 0;
    lively.ws.on('ping', () => pings++);
    await vi.waitFor(() => expect(silent.closed?.code).toBe(4408), { timeout: 10_000 });
    expect(pings).toBeGreaterThan(0);
    expect(lively.closed).toBeUndefined();
  });

  it('tells clients to resync after its playback-queue replica restarted, and keeps pushing', async () => {
    const token = await signUp(running.baseUrl, 'restart');
    const device = await connect(gateway2.url, token);
    await ready(device);
    await running.suite.stopReplica('playback-queue', 2);
    playback2 = await running.suite.startReplica('playback-queue', 2, { port: playback2.port });
    await device.next((m) => m.type === 'resync', 'resync after the stream came back');

    const api = apiClient(running.baseUrl);
    const { tracks } = (await api<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=1', { token })).body;
    const added = await api<{ version: number }>('POST', '/v1/me/player/queue', { token, body: { track_ids: [tracks[0]!.id] } });
    await device.next((m) => m.type === 'queue.changed' && m.version === added.body.version, 'a change after the restart');
  });

  it('hands its event stream to another playback-queue replica when the one holding it stops: every change pushed once, in order, no resync', async () => {
    // Two replicas behind one target, as a headless Service resolves; after SIGTERM each keeps
    // serving for a moment (SHUTDOWN_DELAY_MS), as in production, so it could still take the new stream.
    const env = { SHUTDOWN_DELAY_MS: '1000' };
    const replicas = [
      await running.suite.startReplica('playback-queue', 3, { env }),
      await running.suite.startReplica('playback-queue', 4, { env }),
    ];
    const gateway = await running.suite.startReplica('api-gateway', 3, {
      env: { PLAYBACK_GRPC_URL: `ipv4:${replicas.map((r) => r.url).join(',')}` },
    });
    const gatewayMetrics = `http://127.0.0.1:${gateway.opsPort}/metrics`;
    try {
      const token = await signUp(gateway.url, 'handover');
      const device = await connect(gateway.url, token);
      await ready(device);
      // Nothing but the gateway's stream calls these replicas yet: the one with a call in flight holds it.
      const activeCalls = (replica: Replica) =>
        metricSum(`http://127.0.0.1:${replica.opsPort}/metrics`, 'overture_rpc_server_active_calls');
      const holder = await vi.waitFor(
        async () => {
          const active = await Promise.all(replicas.map(activeCalls));
          expect([...active].sort()).toEqual([0, 1]);
          return replicas[active.indexOf(1)]!;
        },
        { timeout: 10_000, interval: 50 },
      );
      const other = replicas.find((r) => r !== holder)!;

      const edits = keepEditing(gateway.url, token, await someTrack(gateway.url, token));
      try {
        await vi.waitFor(() => expect(edits.state.acked.length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
        // Changes keep coming while the holder drains, hands over and exits, and after.
        expect(await running.suite.stopReplica('playback-queue', holder.index)).toBe(0);
        const atExit = edits.state.acked.length;
        await vi.waitFor(() => expect(edits.state.acked.length).toBeGreaterThanOrEqual(atExit + 3), { timeout: 10_000 });
      } finally {
        await edits.stop();
      }
      await expectEveryChangeOnceInOrder(device, edits.state.acked);
      console.info(`handover: ${edits.state.acked.length} changes pushed, ${edits.state.failed} edits failed`);

      expect(await metricSum(gatewayMetrics, 'overture_ws_event_stream_handovers_total', { cause: 'draining' })).toBe(1);
      expect(await metricSum(gatewayMetrics, 'overture_ws_event_stream_resyncs_total')).toBe(1); // the first stream's
      // The replacement went straight to the other replica: the draining one, still serving, refused none.
      expect(
        await metricSum(gatewayMetrics, 'rpc_client_call_duration_seconds_count', {
          rpc_method: WATCH_EVENTS,
          rpc_status_code: 'UNAVAILABLE',
        }),
      ).toBe(0);
      await vi.waitFor(async () => expect(await activeCalls(other)).toBe(1), { timeout: 10_000, interval: 50 });
    } finally {
      await running.suite.stopReplica('api-gateway', 3);
      for (const replica of replicas) await running.suite.stopReplica('playback-queue', replica.index);
    }
  });

  it('replaces its event stream make-before-break on schedule: every change pushed once, in order, no resync', async () => {
    const primary = `127.0.0.1:${running.suite.options.ports['playback-queue']}`;
    const gateway = await running.suite.startReplica('api-gateway', 4, {
      env: { PLAYBACK_GRPC_URL: `ipv4:${primary},${playback2.url}`, PLAYBACK_STREAM_ROTATE_MS: '300' },
    });
    const gatewayMetrics = `http://127.0.0.1:${gateway.opsPort}/metrics`;
    try {
      const token = await signUp(gateway.url, 'rotation');
      const device = await connect(gateway.url, token);
      await ready(device);
      const edits = keepEditing(gateway.url, token, await someTrack(gateway.url, token));
      try {
        await vi.waitFor(
          async () =>
            expect(
              await metricSum(gatewayMetrics, 'overture_ws_event_stream_handovers_total', { cause: 'rotation' }),
            ).toBeGreaterThanOrEqual(3),
          { timeout: 20_000, interval: 100 },
        );
      } finally {
        await edits.stop();
      }
      expect(edits.state.failed).toBe(0);
      await expectEveryChangeOnceInOrder(device, edits.state.acked);
      expect(await metricSum(gatewayMetrics, 'overture_ws_event_stream_resyncs_total')).toBe(1);
    } finally {
      await running.suite.stopReplica('api-gateway', 4);
    }
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { APPS, type AppName } from '../../../tools/suite/suite.ts';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';
import { Device } from './ws-device.js';

/** One sample of the Prometheus text format: `name{label="value",…} value`. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[name!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const EMAIL = /[^\s@]+@[^\s@]+\.[a-z]{2,}/i;
const IPV4 = /\b\d{1,3}(\.\d{1,3}){3}\b/;
// Per metric and label: the most distinct values one label may take here. Route templates, RPC
// methods, status codes and the like stay far below it whatever the traffic.
const MAX_DISTINCT_VALUES = 40;

describe('metrics on each app’s ops port', () => {
  let running: RunningSuite;
  const samples = {} as Record<AppName, Sample[]>;
  const junk: string[] = [];

  const scrape = async (app: AppName): Promise<Sample[]> => {
    const response = await fetch(running.suite.metricsUrl(app));
    expect(response.status, app).toBe(200);
    expect(response.headers.get('content-type'), app).toMatch(/^text\/plain/);
    return parse(await response.text());
  };
  const find = (app: AppName, name: string, labels: Record<string, string> = {}): Sample[] =>
    samples[app].filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 200 });
    const api = apiClient(running.baseUrl);
    const email = `metrics-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: 'Metrics' } })).status).toBe(201);
    const token = (await api<{ access_token: string }>('POST', '/v1/auth/token', { body: { grant_type: 'password', email, password } }))
      .body.access_token;
    const { tracks } = (await api<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=20', { token })).body;
    expect(tracks.length).toBeGreaterThan(5);
    // Many distinct ids and paths, known and unknown, none of which may become a label value.
    for (const track of tracks) expect((await api('GET', `/v1/tracks/${track.id}`, { token })).status).toBe(200);
    for (let i = 0; i < 25; i++) {
      const id = randomUUID();
      const path = `/nope/${randomBytes(6).toString('hex')}`;
      junk.push(id, path);
      expect((await api('GET', `/v1/tracks/${id}`, { token })).status).toBe(404);
      expect((await api('GET', path, { token })).status).toBe(404);
      expect((await api('GET', `/v1/tracks/${id}`, { token: `not-a-token-${i}` })).status).toBe(401);
    }
    // A connected device, so that the gateway has an open WebSocket while it is scraped, and pushes one change.
    const device = await Device.connect(running.baseUrl, token);
    await device.next((m) => m.type === 'ready', 'ready');
    try {
      expect((await api('POST', '/v1/me/player/queue', { token, body: { track_ids: tracks.slice(0, 3).map((t) => t.id) } })).status).toBe(
        201,
      );
      await device.next((m) => m.type === 'queue.changed', 'queue.changed');
      for (const app of APPS) samples[app] = await scrape(app);
    } finally {
      device.ws.terminate();
    }
  });

  afterAll(() => running?.stop());

  it('the gateway records HTTP requests by route template, unmatched paths as one route', () => {
    const byRoute = (route: string, code: string) =>
      find('api-gateway', 'http_server_request_duration_seconds_count', {
        http_request_method: 'GET',
        http_route: route,
        http_response_status_code: code,
      });
    expect(byRoute('/v1/tracks/:id', '200')[0]?.value).toBeGreaterThanOrEqual(5);
    expect(byRoute('/v1/tracks/:id', '404')[0]?.value).toBe(25);
    expect(byRoute('unmatched', '404')[0]?.value).toBe(25);
    expect(find('api-gateway', 'http_server_active_requests')).toHaveLength(1);
    expect(find('api-gateway', 'overture_token_verification_failures_total', { reason: 'invalid' })[0]?.value).toBeGreaterThanOrEqual(25);
    expect(find('api-gateway', 'overture_ws_connections')[0]?.value).toBeGreaterThanOrEqual(1);
    // The pushed change: the gateway's own part, and the whole way from playback-queue's write.
    expect(find('api-gateway', 'overture_ws_push_latency_seconds_count')[0]?.value).toBeGreaterThanOrEqual(1);
    expect(find('api-gateway', 'overture_ws_push_delay_seconds_count')[0]?.value).toBeGreaterThanOrEqual(1);
    expect(find('api-gateway', 'overture_breaker_state', { dependency: 'metadata' })[0]?.value).toBe(0);
  });

  it('a gRPC method is recorded on both sides, with its status', () => {
    const getTrack = { rpc_system_name: 'grpc', rpc_method: 'overture.metadata.v1.MetadataService/GetTrack' };
    for (const [app, name] of [
      ['api-gateway', 'rpc_client_call_duration_seconds_count'],
      ['metadata', 'rpc_server_call_duration_seconds_count'],
    ] as const) {
      expect(find(app, name, { ...getTrack, rpc_status_code: 'OK' })[0]?.value, app).toBeGreaterThanOrEqual(5);
      expect(find(app, name, { ...getTrack, rpc_status_code: 'NOT_FOUND' })[0]?.value, app).toBe(25);
    }
    // Services call each other through the same clients: playback-queue looked the queued tracks up.
    expect(find('playback-queue', 'rpc_client_call_duration_seconds_count').length).toBeGreaterThan(0);
  });

  it('every service exports its database pool, every app its runtime', () => {
    for (const app of APPS) {
      expect(find(app, 'nodejs_eventloop_utilization_ratio'), app).toHaveLength(1);
      expect(find(app, 'nodejs_eventloop_delay_p99_seconds'), app).toHaveLength(1);
      expect(find(app, 'v8js_memory_heap_used_bytes').length, app).toBeGreaterThan(0);
      expect(find(app, 'process_resident_memory_bytes'), app).toHaveLength(1);
      if (app === 'api-gateway') continue;
      expect(find(app, 'db_client_connection_count', { db_client_connection_state: 'idle' }), app).toHaveLength(1);
      expect(find(app, 'db_client_connection_count', { db_client_connection_state: 'used' }), app).toHaveLength(1);
      expect(find(app, 'db_client_connection_pending_requests'), app).toHaveLength(1);
    }
  });

  it('the domain signals are there: metadata’s cache, playback-queue’s outbox', () => {
    expect(find('metadata', 'overture_cache_requests_total', { cache: 'track' }).length).toBeGreaterThan(0);
    expect(find('playback-queue', 'overture_outbox_pending_events')).toHaveLength(1);
    expect(find('playback-queue', 'overture_outbox_oldest_pending_age_seconds')).toHaveLength(1);
  });

  it('no label value is an id, a raw path, an email or an address, and each label takes few values', () => {
    const offending: string[] = [];
    const crowded: string[] = [];
    for (const app of APPS) {
      const distinct = new Map<string, Set<string>>();
      for (const sample of samples[app]) {
        for (const [label, value] of Object.entries(sample.labels)) {
          if (UUID.test(value) || EMAIL.test(value) || IPV4.test(value) || junk.some((raw) => value.includes(raw))) {
            offending.push(`${app} ${sample.name}{${label}="${value}"}`);
          }
          const key = `${sample.name.replace(/_(bucket|sum|count)$/, '')} ${label}`;
          let values = distinct.get(key);
          if (!values) distinct.set(key, (values = new Set()));
          values.add(value);
        }
      }
      for (const [key, values] of distinct) if (values.size > MAX_DISTINCT_VALUES) crowded.push(`${app} ${key}: ${values.size} values`);
    }
    expect(offending).toEqual([]);
    expect(crowded).toEqual([]);
    // The route label holds templates only.
    const routes = new Set(find('api-gateway', 'http_server_request_duration_seconds_count').map((s) => s.labels.http_route));
    for (const route of routes) expect(route).toMatch(/^(unmatched|\/[\w/:.*-]*)$/);
  });

  it('the ops port is not the API port: the gateway does not serve /metrics', async () => {
    expect((await fetch(`${running.baseUrl}/metrics`)).status).toBe(404);
    expect((await fetch(running.suite.metricsUrl('api-gateway'))).status).toBe(200);
  });
});

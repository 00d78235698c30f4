import type { ServiceIdentity } from '@overture/grpc';
import { testTransport } from '@overture/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { Replica } from '../../../tools/suite/suite.ts';
import { healthStatus, type ProbeSecurity } from './grpc-probe.js';
import { metricSum } from './metric-sum.js';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';

function operatorTo(server: ServiceIdentity): ProbeSecurity {
  const transport = testTransport('api-gateway');
  return { credentials: transport.channelCredentials(server), options: transport.channelOptions(server) };
}

/** Closed-loop load: `workers` clients each sending the next request as soon as the last is answered. */
function steadyLoad(request: (i: number) => Promise<number>, workers: number) {
  const state = { inFlight: 0, completed: 0, failures: [] as { at: number; status: number }[], stopped: false };
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = w; !state.stopped; i += workers) {
      state.inFlight++;
      const status = await request(i).catch(() => 0);
      state.inFlight--;
      state.completed++;
      if (status !== 200) state.failures.push({ at: state.completed, status });
    }
  });
  return {
    state,
    stop: async () => {
      state.stopped = true;
      await Promise.all(loops);
    },
  };
}

describe('one stalled replica of two', () => {
  let running: RunningSuite;
  let metadata2: Replica;
  let gateway: Replica;
  let token: string;
  let trackIds: string[];

  // Two more processes than the usual suite: the start-up gets more than the default hook timeout.
  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 200 });
    const { suite } = running;
    metadata2 = await suite.startReplica('metadata', 2);
    await vi.waitFor(async () => expect(await healthStatus(metadata2.url, '', operatorTo('metadata'))).toBe('SERVING'), {
      timeout: 20_000,
      interval: 100,
    });
    // A gateway that knows both metadata replicas behind one target.
    const primary = `127.0.0.1:${suite.options.ports.metadata}`;
    gateway = await suite.startReplica('api-gateway', 2, { env: { METADATA_GRPC_URL: `ipv4:${primary},${metadata2.url}` } });
    const api = apiClient(gateway.url);
    const email = `isolation-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: 'Iso' } })).status).toBe(201);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', username: email, password },
    });
    token = issued.body.access_token;
    const search = await api<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=50', { token });
    trackIds = search.body.tracks.map((t) => t.id);
    expect(trackIds.length).toBeGreaterThan(10);
  }, 240_000);

  afterAll(async () => {
    metadata2?.child.kill('SIGCONT');
    await running?.stop();
  });

  it('costs at most the calls in flight to it, opens no breaker, and gets traffic again once it resumes', async () => {
    const api = apiClient(gateway.url);
    const metrics = `http://127.0.0.1:${gateway.opsPort}/metrics`;
    const replicaMetrics = `http://127.0.0.1:${metadata2.opsPort}/metrics`;
    const getTrack = { rpc_method: 'overture.metadata.v1.MetadataService/GetTrack' };
    const opensBefore = await metricSum(metrics, 'overture_breaker_transitions_total', { dependency: 'metadata', to: 'open' });
    const load = steadyLoad(async (i) => (await api('GET', `/v1/tracks/${trackIds[i % trackIds.length]}`, { token })).status, 8);
    try {
      // Both replicas serve before the stall.
      await vi.waitFor(
        async () => expect(await metricSum(replicaMetrics, 'rpc_server_call_duration_seconds_count', getTrack)).toBeGreaterThan(20),
        {
          timeout: 20_000,
          interval: 100,
        },
      );
      expect(load.state.failures).toEqual([]);

      metadata2.child.kill('SIGSTOP');
      const inFlightAtStall = load.state.inFlight;
      const completedAtStall = load.state.completed;
      // The stall lasts while 300 requests complete through the other replica (a few seconds here).
      await vi.waitFor(() => expect(load.state.completed - completedAtStall).toBeGreaterThanOrEqual(300), {
        timeout: 60_000,
        interval: 50,
      });
      metadata2.child.kill('SIGCONT');
      const servedBeforeResume = await metricSum(replicaMetrics, 'rpc_server_call_duration_seconds_count', getTrack);
      // Probed back: the replica serves again once its ejection ends.
      await vi.waitFor(
        async () =>
          expect(await metricSum(replicaMetrics, 'rpc_server_call_duration_seconds_count', getTrack)).toBeGreaterThan(
            servedBeforeResume + 20,
          ),
        { timeout: 30_000, interval: 200 },
      );
      await load.stop();

      const ejections = await metricSum(metrics, 'overture_grpc_endpoint_ejections_total', { service: 'metadata' });
      const retries = await metricSum(metrics, 'overture_retries_total', { dependency: 'metadata' });
      console.info(
        `stalled replica: ${load.state.completed} requests, ${load.state.failures.length} failed ` +
          `(${inFlightAtStall} in flight at the stall), ${ejections} ejections, ${retries} retries`,
      );
      expect(load.state.failures.length).toBeLessThanOrEqual(inFlightAtStall);
      expect(await metricSum(metrics, 'overture_breaker_transitions_total', { dependency: 'metadata', to: 'open' })).toBe(opensBefore);
      expect(await metricSum(metrics, 'overture_breaker_rejections_total', { dependency: 'metadata' })).toBe(0);
      expect(ejections).toBeGreaterThanOrEqual(1);
    } finally {
      metadata2.child.kill('SIGCONT');
      await load.stop();
    }
  });
});

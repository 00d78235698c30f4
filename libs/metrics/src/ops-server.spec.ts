import { afterEach, describe, expect, it } from 'vitest';
import { OpsServer } from './ops-server.js';
import { counter } from './registry.js';

describe('OpsServer', () => {
  let server: OpsServer | undefined;
  afterEach(() => server?.close());

  async function started(): Promise<{ server: OpsServer; base: string }> {
    server = new OpsServer();
    const address = await server.listen('127.0.0.1:0');
    return { server, base: `http://127.0.0.1:${address.port}` };
  }

  it('serves the registry in Prometheus text format at GET /metrics', async () => {
    counter({ name: 'ops_server_spec_total', help: 'A counter of this test.' }).inc(3);
    const { base } = await started();
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE ops_server_spec_total counter');
    expect(text).toMatch(/^ops_server_spec_total 3$/m);
  });

  it('takes routes added later, exact or under a prefix, and answers 404 and 405 otherwise', async () => {
    const { server: ops, base } = await started();
    ops.route('GET', '/debug/extra/*', (request, response) => {
      response.end(`extra ${request.url}`);
    });
    ops.route('POST', '/debug/gc', (_request, response) => {
      response.end('collected');
    });
    expect(await (await fetch(`${base}/debug/extra/a?b=1`)).text()).toBe('extra /debug/extra/a?b=1');
    expect(await (await fetch(`${base}/debug/gc`, { method: 'POST' })).text()).toBe('collected');
    const wrongMethod = await fetch(`${base}/metrics`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('serves CPU and heap profiles as pprof, refusing a bad duration with 400', async () => {
    const { base } = await started();
    expect((await fetch(`${base}/debug/pprof/profile?seconds=0`)).status).toBe(400);
    expect((await fetch(`${base}/debug/pprof/heap?seconds=61`)).status).toBe(400);
    const profile = await fetch(`${base}/debug/pprof/profile?seconds=1`);
    expect(profile.status).toBe(200);
    // gzip's magic number: the body is the gzipped profile.proto.
    expect([...new Uint8Array(await profile.arrayBuffer()).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
  });

  it('answers 500 when a handler fails, and keeps serving', async () => {
    const { server: ops, base } = await started();
    ops.route('GET', '/broken', () => {
      throw new Error('broken handler');
    });
    const response = await fetch(`${base}/broken`);
    expect(response.status).toBe(500);
    expect(await response.text()).toContain('broken handler');
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('refuses an address that is not host:port', async () => {
    await expect(new OpsServer().listen('9464')).rejects.toThrow(/host:port/);
  });
});

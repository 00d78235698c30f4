import { freePort } from '@overture/testing';
import { createServer, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';

/** A span as an OTLP/HTTP JSON export carries it, with the service that sent it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  raw: string;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpKeyValue[];
  links?: { traceId: string; spanId: string }[];
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

// Ids are hex in OTLP/JSON; base64 (the protobuf JSON mapping) is accepted too.
function hexId(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex');
}

function valueOf(value: OtlpValue): unknown {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
}

/** A tiny OTLP/HTTP receiver on loopback: decodes the JSON the apps' exporter posts to /v1/traces. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces' && request.headers['content-type']?.startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const resource of body.resourceSpans ?? []) {
          const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const scope of resource.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                service,
                traceId: hexId(span.traceId),
                spanId: hexId(span.spanId),
                parentSpanId: hexId(span.parentSpanId),
                name: span.name,
                kind: span.kind,
                attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
                links: (span.links ?? []).map((l) => ({ traceId: hexId(l.traceId), spanId: hexId(l.spanId) })),
                raw: JSON.stringify(span),
              });
            }
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('telemetry: one trace per request across every hop, and logs without secrets', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  const password = `pw-${hex(8)}-Secret`;
  let email: string;
  let token: string;

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const appLines = () =>
    running.output.flatMap((line) => {
      const json = line.slice(line.indexOf('] ') + 2);
      try {
        return [JSON.parse(json) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

  const signUp = async (who: string): Promise<string> => {
    const address = `${who}-${randomUUID()}@example.com`;
    expect((await api('POST', '/v1/auth/register', { body: { email: address, password, display_name: who } })).status).toBe(201);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', email: address, password },
    });
    expect(issued.status).toBe(200);
    return issued.body.access_token;
  };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const telemetry = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_RATIO: '1', LOG_LEVEL: 'info' };
    running = await startSuite(inject('postgresServerUrl'), {
      demoTracks: 200,
      extraEnv: {
        'api-gateway': { ...telemetry, TRACE_LEGACY_HEADER: 'x-kugou-traceid', ACCESS_LOG_SAMPLE_RATIO: '1' },
        auth: telemetry,
        metadata: telemetry,
        'playback-queue': telemetry,
        recommendation: telemetry,
      },
    });
    api = apiClient(running.baseUrl);
    email = `listener-${randomUUID()}@example.com`;
    expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: 'Listener' } })).status).toBe(201);
    const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', { body: { grant_type: 'password', email, password } });
    expect(issued.status).toBe(200);
    token = issued.body.access_token;
  });

  afterAll(async () => {
    await running?.stop();
    await receiver?.close();
  });

  it('gives one request one trace: the gateway span, the service span under it and its PostgreSQL spans', async () => {
    const marker = hex(6);
    const found = await api('GET', `/v1/search?limit=3&q=${marker}`, { token });
    expect(found.status).toBe(200);
    await vi.waitFor(
      () => {
        const gateway = receiver.spans.find((s) => s.service === 'api-gateway' && s.kind === SPAN_KIND_SERVER && s.raw.includes(marker));
        expect(gateway).toBeDefined();
        const trace = spansOf(gateway!.traceId);
        const served = trace.find((s) => s.service === 'metadata' && s.kind === SPAN_KIND_SERVER);
        expect(served).toBeDefined();
        // metadata's span hangs under the gateway's call to it, which hangs under the request.
        const call = trace.find((s) => s.spanId === served!.parentSpanId);
        expect(call).toMatchObject({ service: 'api-gateway', kind: SPAN_KIND_CLIENT });
        const queries = trace.filter(
          (s) =>
            s.service === 'metadata' &&
            s.kind === SPAN_KIND_CLIENT &&
            (s.attributes['db.system.name'] ?? s.attributes['db.system']) === 'postgresql',
        );
        expect(queries.length).toBeGreaterThan(0);
        expect(gateway!.parentSpanId).toBe('');
      },
      { timeout: 20_000, interval: 200 },
    );
  });

  it("continues a client's traceparent, and bridges the legacy trace header", async () => {
    const traceId = hex(16);
    const continued = await api('GET', '/v1/search?limit=2', { token, headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
    expect(continued.status).toBe(200);
    const legacyId = hex(16);
    const bridged = await api('GET', '/v1/search?limit=2', { token, headers: { 'x-kugou-traceid': legacyId } });
    expect(bridged.status).toBe(200);
    await vi.waitFor(
      () => {
        for (const id of [traceId, legacyId]) {
          const services = new Set(spansOf(id).map((s) => s.service));
          expect(services).toContain('api-gateway');
          expect(services).toContain('metadata');
        }
      },
      { timeout: 20_000, interval: 200 },
    );
  });

  it("links recommendation's ingestion of a play back to the trace of the request that played it", async () => {
    const search = await api<{ tracks: { id: string; duration_ms: number }[] }>('GET', '/v1/search?limit=10', { token });
    const track = search.body.tracks.find((t) => t.duration_ms > 60_000)!;
    const queue = await api<{ items: { queue_item_id: string }[] }>('POST', '/v1/me/player/queue', {
      token,
      body: { track_ids: [track.id] },
    });
    expect(queue.status).toBe(201);
    expect((await api('POST', '/v1/me/player/next', { token, body: { device_id: 'phone' } })).status).toBe(200);
    const playTrace = hex(16);
    const played = await api('POST', '/v1/me/player/progress', {
      token,
      headers: { traceparent: `00-${playTrace}-${hex(8)}-01` },
      body: { device_id: 'phone', queue_item_id: queue.body.items[0]!.queue_item_id, position_ms: 45_000, is_playing: true },
    });
    expect(played.status).toBe(200);
    await vi.waitFor(
      () => {
        expect(spansOf(playTrace).some((s) => s.service === 'playback-queue' && s.kind === SPAN_KIND_SERVER)).toBe(true);
        const ingest = receiver.spans.find(
          (s) => s.service === 'recommendation' && s.name === 'ingest play events' && s.links.some((l) => l.traceId === playTrace),
        );
        expect(ingest).toBeDefined();
        const delivery = receiver.spans.find(
          (s) => s.service === 'playback-queue' && s.name === 'outbox deliver play events' && s.traceId === ingest!.traceId,
        );
        expect(delivery?.links.map((l) => l.traceId)).toContain(playTrace);
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  it("puts the request id and the remaining deadline on the service's log lines", async () => {
    // A listener with no plays gets popular tracks, which recommendation looks up in metadata;
    // with metadata down it says so in a warning, written while serving the call.
    const newcomer = await signUp('newcomer');
    await running.suite.stop('metadata');
    const requestId = `req-${hex(8)}`;
    const answered = await api('GET', '/v1/recommendations?limit=20', {
      token: newcomer,
      headers: { 'x-request-id': requestId, 'x-request-timeout-ms': '5000' },
    });
    expect(answered.headers.get('x-request-id')).toBe(requestId);
    await vi.waitFor(
      () => {
        const line = appLines().find((l) => l.service === 'recommendation' && l.request_id === requestId);
        expect(line).toMatchObject({ level: 'warn', trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
        expect(line?.deadline_ms).toBeGreaterThan(0);
        expect(line?.deadline_ms).toBeLessThanOrEqual(5_000);
      },
      { timeout: 10_000, interval: 200 },
    );
    running.suite.start('metadata');
  });

  it('writes no password, token, cookie or e-mail into any log line or exported span', async () => {
    const refused = await api('POST', '/v1/auth/token', { body: { grant_type: 'password', email, password: `${password}-wrong` } });
    expect(refused.status).toBe(401);
    const refresh = `rT${hex(20)}Zq9`;
    await api('POST', `/v1/auth/token?access_token=${token}&email=${encodeURIComponent(email)}`, {
      headers: { cookie: `sid=${refresh}` },
      body: { grant_type: 'refresh_token', refresh_token: refresh },
    });
    const accessLogged = () => appLines().filter((l) => l.context === 'Access' && String(l.path).startsWith('/v1/auth/token?'));
    await vi.waitFor(() => expect(accessLogged().length).toBeGreaterThan(0), { timeout: 10_000, interval: 200 });
    await vi.waitFor(
      () => expect(receiver.spans.some((s) => s.service === 'api-gateway' && s.raw.includes('access_token=[redacted]'))).toBe(true),
      { timeout: 20_000, interval: 200 },
    );
    const everything = [...running.output, ...receiver.spans.map((s) => s.raw)].join('\n');
    for (const secret of [password, token, token.split('.')[2]!, refresh, email, encodeURIComponent(email)]) {
      expect(everything).not.toContain(secret);
    }
  });
});

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';

const PASSWORD = 'correct horse battery staple';

/** Sends raw bytes to the gateway and collects the whole answer, until it closes the connection. */
async function rawExchange(baseUrl: string, request: string): Promise<string> {
  const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  socket.write(request);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer; got ${received}`)), 15_000).unref());
  await Promise.race([once(socket, 'close'), timeout]);
  return received;
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);
const bodyOf = (raw: string) =>
  JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { status: number; reason: string; request_id: string } };

describe('the gateway over plain HTTP: one Authorization header, safe headers, request timeouts', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let token: string;

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), {
      demoTracks: 20,
      extraEnv: { 'api-gateway': { HTTP_REQUEST_TIMEOUT_MS: '1000' } },
    });
    api = apiClient(running.baseUrl);
    const email = `http-${randomUUID()}@example.com`;
    expect((await api('POST', '/v1/auth/register', { body: { email, password: PASSWORD, display_name: 'Http' } })).status).toBe(201);
    token = (
      await api<{ access_token: string }>('POST', '/v1/auth/token', {
        body: { grant_type: 'password', username: email, password: PASSWORD },
      })
    ).body.access_token;
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('answers two Authorization headers with 400 in the standard error body, on REST and on the WebSocket handshake', async () => {
    const twice = `Authorization: Bearer ${token}\r\nAuthorization: Bearer ${token}x\r\n`;
    for (const request of [
      `GET /v1/me HTTP/1.1\r\nHost: gw\r\n${twice}Connection: close\r\n\r\n`,
      `GET /v1/ws HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: ${Buffer.alloc(16, 1).toString('base64')}\r\nSec-WebSocket-Protocol: overture.v1\r\n${twice}\r\n`,
    ]) {
      const raw = await rawExchange(running.baseUrl, request);
      expect(statusOf(raw), raw).toBe(400);
      expect(bodyOf(raw).error).toMatchObject({ status: 400, reason: 'MALFORMED_REQUEST', request_id: expect.any(String) });
      expect(raw).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
    }
    expect((await api('GET', '/v1/me', { token })).status).toBe(200);
  });

  it('sends nosniff on every answer and no-store on personal data and tokens', async () => {
    const me = await api('GET', '/v1/me', { token });
    const queue = await api('GET', '/v1/me/player/queue', { token });
    const signIn = await api('POST', '/v1/auth/token', { body: { grant_type: 'password', username: 'nobody@example.com', password: 'x' } });
    const track = await api('GET', '/v1/search?limit=1', { token });
    const live = await api('GET', '/health/live');
    for (const [name, response] of Object.entries({ me, queue, signIn, track, live })) {
      expect(response.headers.get('x-content-type-options'), name).toBe('nosniff');
    }
    for (const [name, response] of Object.entries({ me, queue, signIn }))
      expect(response.headers.get('cache-control'), name).toBe('no-store');
    expect(track.headers.get('cache-control')).not.toBe('no-store');
  });

  it('answers 408 in the standard error body when a body does not arrive within HTTP_REQUEST_TIMEOUT_MS', async () => {
    const startedAt = Date.now();
    const raw = await rawExchange(
      running.baseUrl,
      'POST /v1/auth/register HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":',
    );
    expect(statusOf(raw), raw).toBe(408);
    expect(bodyOf(raw).error.reason).toBe('REQUEST_TIMEOUT');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './json-logger.js';
import { Redactor } from './redaction.js';
import { SECRETS } from '../test/secrets.js';

let written: string[];

function capture(): void {
  written = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write);
  }
}

/** Logs a request carrying every secret, in every place a request can carry one. */
function logLeakyRequest(logger: ReturnType<typeof createLogger>): void {
  const s = SECRETS;
  logger.log('request', {
    method: 'POST',
    url: `/v1/auth/token?refresh_token=${s.refreshToken}&email=${encodeURIComponent(s.email)}&access_token=${s.accessToken}`,
    headers: {
      authorization: `Bearer ${s.accessToken}`,
      cookie: s.cookie,
      'sec-websocket-protocol': `overture.v1, bearer.${s.accessToken}`,
      'x-forwarded-for': s.clientAddress,
    },
    body: { grant_type: 'password', username: s.email, password: s.password, refresh_token: s.refreshToken },
    client_address: s.clientAddress,
    remoteAddress: s.clientAddressV6,
  });
  logger.warn(`sign-in failed for ${s.email} from ${s.clientAddress} with password=${s.password}`);
  logger.warn(`websocket upgrade refused: protocols "overture.v1, bearer.${s.accessToken}"`);
  logger.error(new Error(`refresh token ${s.refreshToken} was reused; Authorization: Bearer ${s.accessToken}; Cookie: ${s.cookie}`));
  logger.error('request failed', new Error(`token: ${s.refreshToken} for ${s.email} at ${s.clientAddressV6}`).stack, 'Filter');
  logger.log({ msg: `upgrade with subprotocol bearer.${s.accessToken}`, attempts: [{ user: s.email, password: s.password }] });
}

describe('log redaction', () => {
  beforeEach(capture);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(Object.entries(SECRETS))('never writes the %s', (_kind, secret) => {
    logLeakyRequest(createLogger({ service: 'api-gateway', level: 'info', redactClientAddress: true }));
    expect(written.length).toBeGreaterThanOrEqual(6);
    for (const line of written) expect(line).not.toContain(secret);
  });

  it('keeps client addresses unless told to hide them, and still hides every secret', () => {
    logLeakyRequest(createLogger({ service: 'api-gateway', level: 'info' }));
    const all = written.join('');
    expect(all).toContain(SECRETS.clientAddress);
    for (const [kind, secret] of Object.entries(SECRETS)) if (!kind.startsWith('clientAddress')) expect(all).not.toContain(secret);
  });

  it('keeps what is not secret: ids, hashes, times and the rest of the message', () => {
    const logger = createLogger({ service: 'metadata', level: 'info', redactClientAddress: true });
    const id = '0b7e4a8c-3f51-4c67-9d0e-5a2f4f1a9c11';
    const hash = 'a'.repeat(24) + '0123456789abcdef'.repeat(3);
    logger.log(`track ${id} stored as ${hash} at 13:49:32.120`, { trackId: id, grant_type: 'password' });
    const line = JSON.parse(written[0]!) as Record<string, unknown>;
    expect(line.msg).toBe(`track ${id} stored as ${hash} at 13:49:32.120`);
    expect(line).toMatchObject({ trackId: id, grant_type: 'password' });
  });
});

describe('Redactor', () => {
  const redactor = new Redactor({ clientAddress: false });

  it('hides whole fields named like secrets, however they are spelled', () => {
    for (const name of ['password', 'newPassword', 'refresh_token', 'accessToken', 'Authorization', 'set-cookie', 'email', 'x-api-key']) {
      expect(redactor.field(name, 'value')).toBe('[redacted]');
    }
    expect(redactor.field('trackId', 'value')).toBe('value');
  });

  it('replaces secrets inside text and keeps the text around them', () => {
    expect(redactor.text(`Bearer ${SECRETS.accessToken} for ${SECRETS.email}`)).toBe('Bearer [redacted] for [redacted]');
    expect(redactor.text('/v1/me?password=abc&limit=5')).toBe('/v1/me?password=[redacted]&limit=5');
  });
});

import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './json-logger.js';
import { requestContext } from './request-context.js';

interface Line {
  stream: 'stdout' | 'stderr';
  entry: Record<string, unknown>;
}

let lines: Line[];

function captureStream(stream: 'stdout' | 'stderr'): void {
  const write = (chunk: string | Uint8Array): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    lines.push({ stream, entry: JSON.parse(text) as Record<string, unknown> });
    return true;
  };
  vi.spyOn(process[stream], 'write').mockImplementation(write as typeof process.stdout.write);
}

describe('createLogger', () => {
  beforeEach(() => {
    lines = [];
    captureStream('stdout');
    captureStream('stderr');
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('drops lines below the configured level and sends errors to stderr', () => {
    const logger = createLogger({ service: 'auth', level: 'warn' });
    logger.verbose('v');
    logger.debug('d');
    logger.log('i');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    expect(lines.map((l) => [l.stream, l.entry.level, l.entry.msg])).toEqual([
      ['stdout', 'warn', 'w'],
      ['stderr', 'error', 'e'],
      ['stderr', 'fatal', 'f'],
    ]);
  });

  it('writes Nest log calls as info lines with service, context, message and extra fields', () => {
    const logger = createLogger({ service: 'metadata', level: 'verbose' });
    logger.log('track created', { trackId: 't-1' }, 'TrackService');
    expect(lines).toHaveLength(1);
    const { entry } = lines[0]!;
    expect(entry).toMatchObject({
      level: 'info',
      service: 'metadata',
      context: 'TrackService',
      msg: 'track created',
      trackId: 't-1',
    });
    expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
    expect(entry).not.toHaveProperty('request_id');
    expect(entry).not.toHaveProperty('trace_id');
  });

  it('includes the request id inside requestContext.run only', async () => {
    const logger = createLogger({ service: 'playback', level: 'info' });
    await requestContext.run({ requestId: 'req-42' }, async () => {
      logger.log('before await');
      await Promise.resolve();
      logger.log('after await');
    });
    logger.log('outside');
    expect(lines.map((l) => l.entry.request_id)).toEqual(['req-42', 'req-42', undefined]);
  });

  it('serialises an Error as err with name, message and stack', () => {
    const logger = createLogger({ service: 'auth', level: 'info' });
    const error = Object.assign(new RangeError('token expired', { cause: new Error('clock skew') }), { code: 16 });
    logger.error(error, 'AuthService');
    const { entry, stream } = lines[0]!;
    expect(stream).toBe('stderr');
    expect(entry).toMatchObject({
      level: 'error',
      context: 'AuthService',
      msg: 'token expired',
      err: {
        name: 'RangeError',
        message: 'token expired',
        stack: error.stack,
        code: 16,
        cause: { name: 'Error', message: 'clock skew' },
      },
    });
  });

  it('reads the stack Nest passes as a string (error(message, stack, context))', () => {
    const logger = createLogger({ service: 'gateway', level: 'info' });
    const error = new TypeError('cannot read x');
    logger.error('request failed', error.stack, 'ExceptionsHandler');
    expect(lines[0]!.entry).toMatchObject({
      context: 'ExceptionsHandler',
      msg: 'request failed',
      err: { name: 'TypeError', message: 'cannot read x', stack: error.stack },
    });
  });

  it('works behind Nest’s Logger facade, which appends the context', () => {
    Logger.overrideLogger(createLogger({ service: 'gateway', level: 'info' }));
    const logger = new Logger('QueueController');
    logger.log('queued');
    logger.error('boom');
    expect(lines.map((l) => [l.entry.level, l.entry.context, l.entry.msg])).toEqual([
      ['info', 'QueueController', 'queued'],
      ['error', 'QueueController', 'boom'],
    ]);
    expect(lines[1]!.entry).not.toHaveProperty('err');
  });

  it('does not let logged fields overwrite the ones it owns', () => {
    const logger = createLogger({ service: 'auth', level: 'info' });
    requestContext.run({ requestId: 'real' }, () =>
      logger.log('login', { level: 'fatal', request_id: 'forged', service: 'other', userId: 7 }),
    );
    expect(lines[0]!.entry).toMatchObject({ level: 'info', request_id: 'real', service: 'auth', userId: 7 });
  });

  it('never throws on values JSON cannot encode', () => {
    const logger = createLogger({ service: 'auth', level: 'info' });
    const cyclic: Record<string, unknown> = { name: 'node' };
    cyclic.self = cyclic;
    logger.log('odd values', { big: 10n, cyclic });
    expect(lines[0]!.entry).toMatchObject({ big: '10', cyclic: { name: 'node', self: '[Circular]' } });

    const hostile = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    logger.warn('hostile', hostile);
    expect(lines[1]!.entry).toMatchObject({ level: 'warn', msg: 'hostile', log_error: expect.any(String) });
  });
});

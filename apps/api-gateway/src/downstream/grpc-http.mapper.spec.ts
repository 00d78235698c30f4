import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DownstreamError } from './downstream-error.js';
import { httpErrorOf } from './grpc-http.mapper.js';

const EXPECTED: Record<status, number> = {
  [status.OK]: 500,
  [status.CANCELLED]: 503,
  [status.UNKNOWN]: 500,
  [status.INVALID_ARGUMENT]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.FAILED_PRECONDITION]: 409,
  [status.ABORTED]: 409,
  [status.OUT_OF_RANGE]: 400,
  [status.UNIMPLEMENTED]: 500,
  [status.INTERNAL]: 500,
  [status.UNAVAILABLE]: 503,
  [status.DATA_LOSS]: 500,
  [status.UNAUTHENTICATED]: 401,
};

const SECRET_DETAILS = 'connect ECONNREFUSED 10.0.0.7:50053 at Socket.<anonymous> (node:net:1)';

describe('httpErrorOf (gRPC status → HTTP)', () => {
  const codes = Object.values(status).filter((v): v is status => typeof v === 'number');

  it('covers every gRPC code', () => {
    expect(codes).toHaveLength(17);
    expect(
      Object.keys(EXPECTED)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...codes].sort((a, b) => a - b));
  });

  it.each(codes.map((code) => [status[code], code] as const))('maps %s to its HTTP status', (_name, code) => {
    expect(httpErrorOf(new DownstreamError('metadata', code, undefined, 'details')).status).toBe(EXPECTED[code]);
  });

  it("keeps a client error's reason and message, or names the code when the service sent no reason", () => {
    const withReason = httpErrorOf(new DownstreamError('metadata', status.NOT_FOUND, 'TRACK_NOT_FOUND', 'no track with id x'));
    expect(withReason).toMatchObject({ status: 404, reason: 'TRACK_NOT_FOUND', message: 'no track with id x' });
    const without = httpErrorOf(new DownstreamError('playback', status.FAILED_PRECONDITION, undefined, 'queue ended'));
    expect(without).toMatchObject({ status: 409, reason: 'FAILED_PRECONDITION', message: 'queue ended' });
  });

  it('answers an idempotency key reused for another request as 422, and one in use as 409, with their reasons', () => {
    const reused = httpErrorOf(new DownstreamError('playback', status.INVALID_ARGUMENT, 'IDEMPOTENCY_KEY_REUSED', 'another request'));
    expect(reused).toMatchObject({ status: 422, reason: 'IDEMPOTENCY_KEY_REUSED' });
    const inUse = httpErrorOf(new DownstreamError('playback', status.ABORTED, 'IDEMPOTENCY_KEY_IN_USE', 'in flight'));
    expect(inUse).toMatchObject({ status: 409, reason: 'IDEMPOTENCY_KEY_IN_USE' });
  });

  it('challenges with Bearer on 401', () => {
    const error = httpErrorOf(new DownstreamError('auth', status.UNAUTHENTICATED, 'INVALID_CREDENTIALS', 'wrong password'));
    expect(error.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it('answers an unavailable or slow service as 503/504 naming it, without passing on its details', () => {
    const down = httpErrorOf(new DownstreamError('playback', status.UNAVAILABLE, undefined, SECRET_DETAILS));
    expect(down).toMatchObject({ status: 503, reason: 'SERVICE_UNAVAILABLE', headers: { 'retry-after': '1' } });
    expect(down.message).toContain('playback');
    expect(down.message).not.toContain('10.0.0.7');
    const slow = httpErrorOf(new DownstreamError('metadata', status.DEADLINE_EXCEEDED, undefined, SECRET_DETAILS));
    expect(slow).toMatchObject({ status: 504, reason: 'DEADLINE_EXCEEDED' });
    expect(slow.message).toContain('metadata');
  });

  it("keeps an unavailable service's reason, such as its database being down", () => {
    const error = httpErrorOf(new DownstreamError('playback', status.UNAVAILABLE, 'DATABASE_UNAVAILABLE', SECRET_DETAILS));
    expect(error).toMatchObject({ status: 503, reason: 'DATABASE_UNAVAILABLE', headers: { 'retry-after': '1' } });
    expect(error.message).not.toContain('10.0.0.7');
  });

  it('answers server faults as a generic 500 that keeps the cause for the log', () => {
    for (const code of [status.INTERNAL, status.UNKNOWN, status.DATA_LOSS, status.UNIMPLEMENTED]) {
      const cause = new DownstreamError('auth', code, 'DB_EXPLODED', SECRET_DETAILS);
      const error = httpErrorOf(cause);
      expect(error).toMatchObject({ status: 500, reason: 'INTERNAL', message: 'internal error' });
      expect(error.cause).toBe(cause);
    }
  });

  it('answers a code this build does not know as 500', () => {
    const error = httpErrorOf(new DownstreamError('auth', 42 as status, undefined, 'from the future'));
    expect(error).toMatchObject({ status: 500, reason: 'INTERNAL', message: 'internal error' });
  });
});

import { CommonReason, GatewayReason } from '@overture/contracts';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import * as errors from './gateway.errors.js';

// Each factory called with placeholder arguments: a reason where it takes one, a list of methods, text otherwise.
const placeholder = (name: string, index: number): unknown =>
  name === 'invalidToken' && index === 0 ? CommonReason.INVALID_TOKEN : name === 'methodNotAllowed' && index === 2 ? ['GET'] : 'x';
const made = Object.entries(errors).map(([name, factory]) => {
  const args = Array.from({ length: factory.length }, (_, i) => placeholder(name, i));
  return { name, error: (factory as (...a: unknown[]) => unknown)(...args) };
});

describe('gateway errors', () => {
  it('are ApiErrors with an error status and a reason from the contract', () => {
    const contract = new Set<string>([...Object.values(GatewayReason), ...Object.values(CommonReason)]);
    for (const { name, error } of made) {
      expect(error, name).toBeInstanceOf(ApiError);
      const { status, reason } = error as ApiError;
      expect(status, name).toBeGreaterThanOrEqual(400);
      expect(contract.has(reason), `${name}: ${reason}`).toBe(true);
    }
  });

  it('send the headers their status calls for', () => {
    expect(errors.authenticationRequired().headers['www-authenticate']).toBe('Bearer realm="overture"');
    expect(errors.invalidToken(CommonReason.INVALID_TOKEN, 'bad "quoted" \\ token').headers['www-authenticate']).toBe(
      'Bearer realm="overture", error="invalid_token", error_description="bad quoted  token"',
    );
    expect(errors.methodNotAllowed('DELETE', '/v1/me/player', ['GET', 'PUT']).headers).toEqual({ allow: 'GET, PUT' });
    expect(errors.serviceUnavailable('later', 1).headers).toEqual({ 'retry-after': '1' });
    expect(errors.serviceUnavailable('later').headers).toEqual({});
  });
});

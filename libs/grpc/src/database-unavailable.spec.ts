import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './database-unavailable.js';

const pgError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('isDatabaseUnavailable', () => {
  it.each(['08006', '08001', '53300', '57P01', '57P02', '57P03'])('is true for SQLSTATE %s', (code) => {
    expect(isDatabaseUnavailable(pgError(code))).toBe(true);
  });

  it.each(['23505', '42P01', '57014', '40001'])('is false for SQLSTATE %s (a query that failed, not the database)', (code) => {
    expect(isDatabaseUnavailable(pgError(code))).toBe(false);
  });

  it('looks through TypeORM (driverError) and causes, and into an AggregateError of refused addresses', () => {
    expect(isDatabaseUnavailable({ message: 'Query failed', driverError: pgError('57P01') })).toBe(true);
    expect(isDatabaseUnavailable(new Error('outer', { cause: pgError('ECONNREFUSED') }))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')]))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });
});

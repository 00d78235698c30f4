import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from './index.js';

const schema = z.object({
  PORT: env.port(),
  DATABASE_URL: env.postgresUrl(),
  LOG_LEVEL: env.logLevel().default('info'),
});

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const config = loadConfig(schema, { PORT: '8080', DATABASE_URL: 'postgres://u@h/db' });
    expect(config).toEqual({ PORT: 8080, DATABASE_URL: 'postgres://u@h/db', LOG_LEVEL: 'info' });
  });

  it('names every missing or invalid variable at once', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '99999', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT: .*99999/m);
    expect(problems).toMatch(/^DATABASE_URL: is required but not set$/m);
    expect(problems).toMatch(/^LOG_LEVEL: .*loud/m);
  });

  it('treats an empty variable as unset', () => {
    expect(() => loadConfig(schema, { PORT: '', DATABASE_URL: 'postgres://h/db' })).toThrow(/PORT: is required/);
  });

  it('rejects a non-postgres URL', () => {
    expect(() => loadConfig(schema, { PORT: '1', DATABASE_URL: 'mysql://h/db' })).toThrow(/DATABASE_URL: expected a postgres/);
  });
});

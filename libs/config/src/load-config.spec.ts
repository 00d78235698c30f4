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

  it('never echoes a secret or a password inside a URL', () => {
    const secrets = z.object({ API_KEY: z.string().length(8), DATABASE_URL: env.postgresUrl() });
    let message = '';
    try {
      loadConfig(secrets, { API_KEY: 'sup3r-s3cret', DATABASE_URL: 'mysql://admin:hunter2@db/x' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/API_KEY: .*value hidden/);
    expect(message).toMatch(/DATABASE_URL: .*mysql:\/\/admin:\*\*\*@db\/x/);
    expect(message).not.toMatch(/sup3r|hunter2/);
  });

  it('rejects a non-postgres URL', () => {
    expect(() => loadConfig(schema, { PORT: '1', DATABASE_URL: 'mysql://h/db' })).toThrow(/DATABASE_URL: expected a postgres/);
  });
});

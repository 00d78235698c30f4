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

describe('env.grpcTarget', () => {
  const target = env.grpcTarget();

  it('takes an address, a DNS name with or without a DNS server, and a list of replicas', () => {
    for (const good of [
      '127.0.0.1:50051',
      'dns:///auth.overture.svc.cluster.local:50051',
      'dns://127.0.0.1:5353/auth.drill.test:50051',
      'dns://ns.example/auth:50051',
      'ipv4:10.0.0.1:50052,10.0.0.2:50052',
    ]) {
      expect(target.safeParse(good).success, good).toBe(true);
    }
  });

  it('refuses a target without a port or with a malformed DNS server', () => {
    for (const bad of ['auth', 'dns:///auth', 'dns://127.0.0.1:5353auth:50051', 'dns://a b/auth:50051', 'http://auth:50051']) {
      expect(target.safeParse(bad).success, bad).toBe(false);
    }
  });
});

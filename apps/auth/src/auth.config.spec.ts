import { loadConfig } from '@overture/config';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authConfigSchema } from './auth.config.js';

const base = { DATABASE_URL: 'postgres://u@h/overture_auth', GRPC_TLS_DIR: '/var/run/secrets/overture/tls' };

describe('auth config', () => {
  it('applies the defaults and decodes the key-encryption key', () => {
    const key = randomBytes(32);
    const config = loadConfig(authConfigSchema, { ...base, AUTH_KEY_ENCRYPTION_KEY: key.toString('base64') });
    expect(config).toMatchObject({
      GRPC_LISTEN: '127.0.0.1:50051',
      AUTH_ISSUER: 'https://overture.local/auth',
      AUTH_AUDIENCE: 'overture-api',
      AUTH_ACCESS_TOKEN_TTL_SECONDS: 600,
      AUTH_REFRESH_TOKEN_TTL_SECONDS: 30 * 24 * 3600,
      AUTH_ARGON2_MEMORY_KIB: 19_456,
      AUTH_ARGON2_PASSES: 2,
      GRPC_TLS_RELOAD_MS: 60_000,
      GRPC_INSECURE_PLAINTEXT: false,
      GRPC_REFLECTION: false,
    });
    expect(config.AUTH_KEY_ENCRYPTION_KEY.equals(key)).toBe(true);
  });

  it('requires AUTH_KEY_ENCRYPTION_KEY', () => {
    expect(() => loadConfig(authConfigSchema, base)).toThrow(/AUTH_KEY_ENCRYPTION_KEY: is required/);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['not base64', '!'.repeat(44)],
    ['hex', randomBytes(32).toString('hex')],
  ])('rejects a key-encryption key of %s, naming the variable', (_, value) => {
    expect(() => loadConfig(authConfigSchema, { ...base, AUTH_KEY_ENCRYPTION_KEY: value })).toThrow(
      /AUTH_KEY_ENCRYPTION_KEY: must be base64 of exactly 32 bytes/,
    );
  });

  it.each([
    ['all zeros', Buffer.alloc(32)],
    ['one byte repeated', Buffer.alloc(32, 0xff)],
  ])('refuses a key-encryption key of %s', (_, key) => {
    expect(() => loadConfig(authConfigSchema, { ...base, AUTH_KEY_ENCRYPTION_KEY: key.toString('base64') })).toThrow(
      /AUTH_KEY_ENCRYPTION_KEY: must be random, not one byte repeated/,
    );
  });

  it('refuses argon2 settings below the OWASP floor and access tokens outside 60..3600 s', () => {
    const env = {
      ...base,
      AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      AUTH_ARGON2_MEMORY_KIB: '8192',
      AUTH_ARGON2_PASSES: '1',
      AUTH_ACCESS_TOKEN_TTL_SECONDS: '7200',
    };
    expect(() => loadConfig(authConfigSchema, env)).toThrow(
      /AUTH_ACCESS_TOKEN_TTL_SECONDS[\s\S]*AUTH_ARGON2_MEMORY_KIB[\s\S]*AUTH_ARGON2_PASSES/,
    );
  });
});

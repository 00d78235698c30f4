import { AUTH_V1, type authV1 } from '@overture/contracts';
import { createTestDatabase, migrate, startGrpcTestService, testTlsEnv, type GrpcTestService, type TestDatabase } from '@overture/testing';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { authConfigSchema, type AuthConfig } from '../src/auth.config.js';
import { AuthModule } from '../src/auth.module.js';
import { migrations } from '../src/database/migrations/index.js';

export type AuthClient = authV1.AuthServiceClient;

/** Auth's config for a test: its database, auth's test certificate, a fresh key-encryption key, then `env`. */
export function testAuthConfig(databaseUrl: string, env: Record<string, string> = {}): AuthConfig {
  return authConfigSchema.parse({
    ...testTlsEnv('auth'),
    DATABASE_URL: databaseUrl,
    AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...env,
  });
}

export interface AuthReplicas {
  readonly db: TestDatabase;
  /** Replicas of auth on the one database, each with a client acting as the gateway. */
  readonly replicas: GrpcTestService<AuthClient>[];
  stop(): Promise<void>;
}

/** A fresh, migrated database named after `name`, and `count` replicas of auth on it with `env`. */
export async function startAuthReplicas(name: string, env: Record<string, string> = {}, count = 1): Promise<AuthReplicas> {
  const db = await createTestDatabase(inject('postgresServerUrl'), name);
  await migrate(db.url, migrations);
  const config = testAuthConfig(db.url, env);
  const replicas: GrpcTestService<AuthClient>[] = [];
  for (let i = 0; i < count; i++) {
    replicas.push(
      await startGrpcTestService<AuthClient>({ module: AuthModule.forRoot(config), contract: AUTH_V1, serviceName: 'AuthService' }),
    );
  }
  return {
    db,
    replicas,
    stop: async () => {
      for (const replica of replicas) await replica.stop();
      await db.drop();
    },
  };
}

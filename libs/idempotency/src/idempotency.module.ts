import { type DynamicModule, Module } from '@nestjs/common';
import { IDEMPOTENCY_CONFIG, type IdempotencyConfig } from './idempotency.config.js';
import { IdempotencyPurge } from './idempotency-purge.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IdempotentCalls } from './idempotent-calls.js';

/**
 * Idempotency keys for a service's write methods: `IdempotentCalls` to run them, and the purge of
 * expired keys. Needs the service's DataSource (DatabaseModule) and its `idempotency_keys` table.
 */
@Module({})
export class IdempotencyModule {
  static forRoot(config: IdempotencyConfig): DynamicModule {
    return {
      module: IdempotencyModule,
      providers: [{ provide: IDEMPOTENCY_CONFIG, useValue: config }, IdempotencyRepository, IdempotentCalls, IdempotencyPurge],
      exports: [IdempotentCalls, IdempotencyPurge],
    };
  }
}

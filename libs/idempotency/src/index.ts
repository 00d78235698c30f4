export { idempotencyConfig, type IdempotencyConfig } from './idempotency.config.js';
export { idempotencyKeyField } from './idempotency-key.schema.js';
export { IdempotencyModule } from './idempotency.module.js';
export { IdempotencyPurge } from './idempotency-purge.js';
export { IdempotentCalls, type KeyedCall, type KeyedWrite } from './idempotent-calls.js';

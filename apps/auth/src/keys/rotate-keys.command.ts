import { NestFactory } from '@nestjs/core';
import { createLogger } from '@overture/tracing';
import type { AuthConfig } from '../auth.config.js';
import { AuthModule } from '../auth.module.js';
import { SigningKeyService } from './signing-key.service.js';

/**
 * `main.js rotate-keys`: schedules the next signing key now. It is published at once and signs
 * from AUTH_KEY_PUBLISH_LEAD_SECONDS on; the current key stays published until its tokens expire.
 */
export async function rotateKeys(config: AuthConfig): Promise<void> {
  const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL, redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS });
  const app = await NestFactory.createApplicationContext(AuthModule.forRoot(config), { logger });
  try {
    const kid = await app.get(SigningKeyService).rotate();
    logger.log(`new signing key ${kid}: published now, signs in ${config.AUTH_KEY_PUBLISH_LEAD_SECONDS} s`, 'Keys');
  } finally {
    await app.close();
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { tooManyRegistrations } from '../auth.errors.js';
import { throttled } from './throttle.metrics.js';
import { ThrottleRepository } from './throttle.repository.js';

/**
 * Limits registrations per client address (AUTH_REGISTER_FREE_ATTEMPTS_PER_ADDRESS within
 * AUTH_REGISTER_WINDOW_SECONDS, then a growing delay), counted before the password is hashed, so a
 * flood from one address costs one table row, not an argon2id hash per request.
 */
@Injectable()
export class RegistrationThrottle {
  constructor(
    @Inject(ThrottleRepository) private readonly throttle: ThrottleRepository,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** Counts a registration from this address; throws ThrottledError (TOO_MANY_REGISTRATIONS) while it is blocked. */
  async begin(clientAddress: string | undefined): Promise<void> {
    if (!clientAddress) return;
    const refused = await this.throttle.admit([
      {
        scope: 'registration_address',
        key: `register:${clientAddress}`,
        freeAttempts: this.config.AUTH_REGISTER_FREE_ATTEMPTS_PER_ADDRESS,
        windowSeconds: this.config.AUTH_REGISTER_WINDOW_SECONDS,
      },
    ]);
    if (refused) {
      throttled.inc({ scope: refused.limit.scope });
      throw tooManyRegistrations(refused.retryAfterSeconds);
    }
  }
}

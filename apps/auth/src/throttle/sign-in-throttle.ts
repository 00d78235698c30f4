import { Inject, Injectable } from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { tooManySignInAttempts } from '../auth.errors.js';
import { throttled } from './throttle.metrics.js';
import { ThrottleRepository, type AttemptLimit } from './throttle.repository.js';

/**
 * Limits password attempts, all counted in PostgreSQL so every replica shares them, each admitted or
 * refused atomically (a burst of parallel guesses gets exactly the free attempts):
 * - per account from one client address (AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT): the strict limit,
 *   which a stranger's guesses from elsewhere do not touch, so they cannot lock the owner out;
 * - per account from all addresses (AUTH_SIGNIN_ACCOUNT_CEILING, far higher): bounds a guessing
 *   campaign spread over many addresses;
 * - per client address across accounts (AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS).
 * The account is the normalised email whether or not it exists, so the limit reveals no accounts.
 * A success forgets the account-and-address count and gives the attempt back to the other two.
 */
@Injectable()
export class SignInThrottle {
  constructor(
    @Inject(ThrottleRepository) private readonly throttle: ThrottleRepository,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** Counts an attempt; throws ThrottledError (TOO_MANY_SIGN_IN_ATTEMPTS) while any of its limits is blocked. */
  async begin(email: string, clientAddress: string | undefined): Promise<void> {
    const refused = await this.throttle.admit(this.limits(email, clientAddress));
    if (refused) {
      throttled.inc({ scope: refused.limit.scope });
      throw tooManySignInAttempts(refused.retryAfterSeconds);
    }
  }

  /** The attempt succeeded: the account starts over from this address, and the wider limits get the attempt back. */
  async succeeded(email: string, clientAddress: string | undefined): Promise<void> {
    const [accountFromAddress, ...wider] = this.limits(email, clientAddress);
    if (accountFromAddress) await this.throttle.forget(accountFromAddress.key);
    for (const limit of wider) await this.throttle.giveBack(limit.key);
  }

  private limits(email: string, clientAddress: string | undefined): AttemptLimit[] {
    const windowSeconds = this.config.AUTH_SIGNIN_WINDOW_SECONDS;
    const limits: AttemptLimit[] = [
      {
        scope: 'account_address',
        key: `account:${email}|address:${clientAddress ?? ''}`,
        freeAttempts: this.config.AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT,
        windowSeconds,
      },
      { scope: 'account', key: `account:${email}`, freeAttempts: this.config.AUTH_SIGNIN_ACCOUNT_CEILING, windowSeconds },
    ];
    if (clientAddress)
      limits.push({
        scope: 'address',
        key: `address:${clientAddress}`,
        freeAttempts: this.config.AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS,
        windowSeconds,
      });
    return limits;
  }
}

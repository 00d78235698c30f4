import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { DataSource } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';

/** Refused because of earlier attempts; `retryAfterSeconds` goes to the client as Retry-After. */
export class SignInThrottledError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(ErrorCategory.ResourceExhausted, 'TOO_MANY_SIGN_IN_ATTEMPTS', `too many sign-in attempts; try again in ${retryAfterSeconds} s`);
  }
}

interface Limit {
  key: string;
  freeAttempts: number;
}

const MAX_BLOCK_SECONDS = 15 * 60;

/**
 * Limits password attempts per account (the normalised email, whether or not it exists, so the
 * limit does not reveal accounts) and per client address, in PostgreSQL so every replica shares
 * the counts. Every attempt counts when it starts (so a burst of parallel guesses cannot slip past
 * the check); a success forgets the account's count and takes the attempt back from the address.
 * After the free attempts, each further one blocks the key for 1, 2, 4 … seconds (at most 15
 * minutes); a key idle for AUTH_SIGNIN_WINDOW_SECONDS starts over.
 */
@Injectable()
export class SignInThrottle {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** Counts an attempt for the account and the address; throws SignInThrottledError while either is blocked. */
  async begin(email: string, clientAddress: string | undefined): Promise<void> {
    const limits = this.limits(email, clientAddress);
    const blockedFor = await this.db.transaction(async (tx) => {
      let longest = 0;
      for (const limit of limits) {
        const [row]: { blocked_s: number | null }[] = await tx.query(
          `SELECT ceil(extract(epoch FROM blocked_until - clock_timestamp()))::int AS blocked_s
           FROM sign_in_throttle WHERE key = $1 AND blocked_until > clock_timestamp()`,
          [limit.key],
        );
        if (row?.blocked_s) longest = Math.max(longest, row.blocked_s);
      }
      if (longest > 0) return longest;
      for (const limit of limits) {
        await tx.query(
          `INSERT INTO sign_in_throttle AS s (key, attempts, blocked_until, updated_at) VALUES ($1, 1, NULL, clock_timestamp())
           ON CONFLICT (key) DO UPDATE SET
             attempts = CASE WHEN s.updated_at < clock_timestamp() - make_interval(secs => $3) THEN 1 ELSE s.attempts + 1 END,
             updated_at = clock_timestamp(),
             blocked_until = CASE
               WHEN s.updated_at < clock_timestamp() - make_interval(secs => $3) OR s.attempts + 1 <= $2 THEN NULL
               ELSE clock_timestamp() + make_interval(secs => least($4, power(2, least(s.attempts - $2, 20))))
             END`,
          [limit.key, limit.freeAttempts, this.config.AUTH_SIGNIN_WINDOW_SECONDS, MAX_BLOCK_SECONDS],
        );
      }
      return 0;
    });
    if (blockedFor > 0) throw new SignInThrottledError(blockedFor);
  }

  /** The attempt succeeded: the account starts over, and the address gets the attempt back. */
  async succeeded(email: string, clientAddress: string | undefined): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM sign_in_throttle WHERE key = $1', [accountKey(email)]);
      if (clientAddress) {
        await tx.query('UPDATE sign_in_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = $1', [addressKey(clientAddress)]);
      }
    });
  }

  private limits(email: string, clientAddress: string | undefined): Limit[] {
    const limits = [{ key: accountKey(email), freeAttempts: this.config.AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT }];
    if (clientAddress) limits.push({ key: addressKey(clientAddress), freeAttempts: this.config.AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS });
    return limits;
  }
}

function accountKey(email: string): string {
  return `account:${email}`;
}

function addressKey(address: string): string {
  return `address:${address}`;
}

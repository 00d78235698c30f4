import { AuthReason } from '@overture/contracts';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { ThrottledError } from './throttle/throttled.error.js';

// Every error auth answers with on purpose, one factory per reason of AuthErrorReason
// (proto/overture/auth/v1/errors.proto): a throw site names what went wrong, and each reason's
// category and message are written once, here.

/** Unknown email and wrong password alike, so the answer does not tell who has an account. */
export const invalidCredentials = (message = 'email or password is incorrect'): DomainError =>
  new DomainError(ErrorCategory.Unauthenticated, AuthReason.INVALID_CREDENTIALS, message);

export const invalidRefreshToken = (): DomainError =>
  new DomainError(ErrorCategory.Unauthenticated, AuthReason.INVALID_REFRESH_TOKEN, 'refresh token is invalid or expired');

export const refreshTokenReused = (): DomainError =>
  new DomainError(
    ErrorCategory.Unauthenticated,
    AuthReason.REFRESH_TOKEN_REUSED,
    'refresh token was already used; the session is revoked and must sign in again',
  );

export const emailTaken = (): DomainError =>
  new DomainError(ErrorCategory.AlreadyExists, AuthReason.EMAIL_TAKEN, 'an account with this email already exists');

export const userNotFound = (userId: string): DomainError =>
  new DomainError(ErrorCategory.NotFound, AuthReason.USER_NOT_FOUND, `no user with id ${userId}`);

export const sessionNotFound = (sessionId: string): DomainError =>
  new DomainError(ErrorCategory.NotFound, AuthReason.SESSION_NOT_FOUND, `no active session ${sessionId}`);

export const unknownPermission = (permissions: readonly string[]): DomainError =>
  new DomainError(ErrorCategory.InvalidArgument, AuthReason.UNKNOWN_PERMISSION, `permissions: unknown ${permissions.join(', ')}`);

/** `lost`: the admin permissions no one would hold any more. */
export const lastAdmin = (lost: readonly string[]): DomainError =>
  new DomainError(
    ErrorCategory.FailedPrecondition,
    AuthReason.LAST_ADMIN,
    `no one would hold ${lost.join(' and ')} any more; give it to another user or role first`,
  );

export const tooManySignInAttempts = (retryAfterSeconds: number): ThrottledError =>
  new ThrottledError(
    AuthReason.TOO_MANY_SIGN_IN_ATTEMPTS,
    `too many sign-in attempts; try again in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  );

export const tooManyRegistrations = (retryAfterSeconds: number): ThrottledError =>
  new ThrottledError(
    AuthReason.TOO_MANY_REGISTRATIONS,
    `too many registrations from this address; try again in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  );

export const passwordHashingBusy = (): ThrottledError =>
  new ThrottledError(AuthReason.PASSWORD_HASHING_BUSY, 'too many password checks in progress; try again shortly', 1);

/** WatchPolicy cannot start now; `message` says why. */
export const policyStreamUnavailable = (message = 'policy changes cannot be followed right now'): DomainError =>
  new DomainError(ErrorCategory.Unavailable, AuthReason.POLICY_STREAM_UNAVAILABLE, message);

export const policyStreamInterrupted = (): DomainError =>
  new DomainError(ErrorCategory.Unavailable, AuthReason.POLICY_STREAM_INTERRUPTED, 'policy changes were interrupted; reconnect');

import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DomainError } from '@overture/grpc';
import type { KeyedWrite } from '@overture/idempotency';
import { randomBytes } from 'node:crypto';
import { SecurityEventRepository } from '../audit/security-event.repository.js';
import { emailTaken, invalidCredentials, userNotFound } from '../auth.errors.js';
import { PolicyService } from '../policy/policy.service.js';
import { SessionService } from '../sessions/session.service.js';
import { RegistrationThrottle } from '../throttle/registration-throttle.js';
import { SignInThrottle } from '../throttle/sign-in-throttle.js';
import type { RegisterInput } from './account.schemas.js';
import { PasswordHasher } from './password-hasher.js';
import { changeRole } from './role-change.js';
import { UserRepository } from './user.repository.js';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';
import type { User } from './user.js';

/** A user whose password was just checked, and the hash it was checked against (or rehashed to). */
export interface Authenticated {
  user: User;
  passwordHash: string;
}

@Injectable()
export class AccountService implements OnModuleInit {
  private readonly logger = new Logger(AccountService.name);
  // Verified against when the email is unknown, so that answer takes as long as a wrong password.
  private dummyHash = '';

  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @Inject(SignInThrottle) private readonly throttle: SignInThrottle,
    @Inject(RegistrationThrottle) private readonly registrations: RegistrationThrottle,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(PolicyService) private readonly policy: PolicyService,
    @Inject(SecurityEventRepository) private readonly audit: SecurityEventRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hasher.hash(randomBytes(32).toString('base64'));
  }

  /** Creates an account; counted per client address before the (deliberately costly) hash is made. */
  async register(input: RegisterInput, keyed?: KeyedWrite<User>): Promise<User> {
    await this.registrations.begin(input.clientAddress);
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.users.insertWithCredential({ email: input.email, displayName: input.displayName }, passwordHash, keyed);
    if (!user) throw emailTaken();
    return user;
  }

  async getUser(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw userNotFound(id);
    return user;
  }

  /**
   * The user whose email and password these are. An unknown email and a wrong password fail alike
   * (same status, reason, message and, roughly, time) so the answer does not reveal who has an
   * account. Attempts are throttled per account and client address; a hash made with older
   * argon2id parameters is replaced now that the password is known.
   */
  async authenticate(email: string, password: string, clientAddress?: string): Promise<Authenticated> {
    await this.throttled(email, clientAddress);
    const found = await this.users.findWithPasswordHash(email);
    const matches = await this.hasher.verify(found?.passwordHash ?? this.dummyHash, password);
    if (!found || !matches) {
      await this.audit.record({ kind: 'SIGN_IN_FAILED', userId: found?.user.id, clientAddress, detail: { email } });
      throw invalidCredentials();
    }
    await this.throttle.succeeded(email, clientAddress);
    const passwordHash = await this.rehashIfOutdated(found.user.id, found.passwordHash, password);
    return { user: found.user, passwordHash };
  }

  /**
   * Inside the transaction that starts a session: the password `authenticate` checked is still the
   * user's, and stays so until `tx` commits. A password change that committed meanwhile would not
   * have ended a session that did not exist yet, so the sign-in is refused instead; a change that
   * comes later waits for this transaction and then ends its session too.
   */
  async confirmPasswordUnchanged(tx: SqlRunner, authenticated: Authenticated, password: string): Promise<void> {
    const current = await this.users.lockPasswordHash(tx, authenticated.user.id);
    if (current === authenticated.passwordHash) return;
    // A different hash may be a concurrent sign-in's rehash of the same password: check it once more.
    if (current === undefined || !(await this.hasher.verify(current, password))) throw invalidCredentials();
  }

  /** Sets a new password after checking the current one, and ends every other session of the user. */
  async changePassword(userId: string, currentSessionId: string, current: string, next: string, clientAddress?: string): Promise<void> {
    const user = await this.verifyOwnPassword(userId, current, clientAddress);
    const passwordHash = await this.hasher.hash(next);
    await this.users.transaction(async (tx) => {
      await this.users.updatePasswordHash(userId, passwordHash, tx);
      const ended = await this.sessions.end(tx, userId, { except: currentSessionId, reason: 'password changed' });
      await this.audit.record(
        { kind: 'PASSWORD_CHANGED', userId: user.id, sessionId: currentSessionId, clientAddress, detail: { endedSessions: ended.length } },
        tx,
      );
    });
  }

  /**
   * Deletes the account after checking its password; every session ends at once. Refused
   * (LAST_ADMIN) when no one else would hold an admin permission.
   */
  async deleteAccount(userId: string, password: string, clientAddress?: string): Promise<void> {
    await this.verifyOwnPassword(userId, password, clientAddress);
    await this.users.transaction(async (tx) => {
      await this.policy.guardAdminPermissions(tx, async () => {
        await this.sessions.end(tx, userId, { reason: 'account deleted' });
        await this.users.delete(tx, userId);
      });
      await this.audit.record({ kind: 'ACCOUNT_DELETED', userId, clientAddress }, tx);
    });
  }

  /** Grants or revokes a role; the user's current access tokens stop working so the new roles apply at once. */
  changeRole(actorUserId: string, userId: string, role: string, grant: boolean): Promise<User> {
    return changeRole({ users: this.users, policy: this.policy, audit: this.audit }, { actorUserId, userId, role, grant });
  }

  private async verifyOwnPassword(userId: string, password: string, clientAddress?: string): Promise<User> {
    const found = await this.users.findByIdWithPasswordHash(userId);
    if (!found) throw userNotFound(userId);
    await this.throttled(found.user.email, clientAddress);
    if (!(await this.hasher.verify(found.passwordHash, password))) {
      await this.audit.record({ kind: 'SIGN_IN_FAILED', userId, clientAddress, detail: { during: 'password check' } });
      throw invalidCredentials('the current password is incorrect');
    }
    await this.throttle.succeeded(found.user.email, clientAddress);
    return found.user;
  }

  private async throttled(email: string, clientAddress: string | undefined): Promise<void> {
    try {
      await this.throttle.begin(email, clientAddress);
    } catch (error) {
      if (error instanceof DomainError) await this.audit.record({ kind: 'SIGN_IN_THROTTLED', clientAddress, detail: { email } });
      throw error;
    }
  }

  /** Returns the hash stored now: the new one, or the old one when none was needed or it failed. */
  private async rehashIfOutdated(userId: string, passwordHash: string, password: string): Promise<string> {
    if (!this.hasher.needsRehash(passwordHash)) return passwordHash;
    // A failed rehash must not fail the sign-in: the old hash still verifies, and the next sign-in retries.
    try {
      const rehashed = await this.hasher.hash(password);
      await this.users.updatePasswordHash(userId, rehashed);
      await this.audit.record({ kind: 'PASSWORD_REHASHED', userId });
      return rehashed;
    } catch (error) {
      this.logger.warn({ msg: 'could not rehash a password with the current parameters', error: String(error) });
      return passwordHash;
    }
  }
}

import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { randomBytes } from 'node:crypto';
import type { RegisterInput } from './account.schemas.js';
import { PasswordHasher } from './password-hasher.js';
import { UserRepository } from './user.repository.js';
import type { User } from './user.js';

@Injectable()
export class AccountService implements OnModuleInit {
  // Verified against when the email is unknown, so that answer takes as long as a wrong password.
  private dummyHash = '';

  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(PasswordHasher) private readonly hasher: PasswordHasher,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hasher.hash(randomBytes(32).toString('base64'));
  }

  async register(input: RegisterInput): Promise<User> {
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.users.insertWithCredential({ email: input.email, displayName: input.displayName }, passwordHash);
    if (!user) throw new DomainError(ErrorCategory.AlreadyExists, 'EMAIL_TAKEN', 'an account with this email already exists');
    return user;
  }

  async getUser(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new DomainError(ErrorCategory.NotFound, 'USER_NOT_FOUND', `no user with id ${id}`);
    return user;
  }

  /**
   * The user whose email and password these are. An unknown email and a wrong password fail alike
   * (same status, reason, message and, roughly, time) so the answer does not reveal who has an account.
   */
  async authenticate(email: string, password: string): Promise<User> {
    const found = await this.users.findWithPasswordHash(email);
    const matches = await this.hasher.verify(found?.passwordHash ?? this.dummyHash, password);
    if (!found || !matches) {
      throw new DomainError(ErrorCategory.Unauthenticated, 'INVALID_CREDENTIALS', 'email or password is incorrect');
    }
    return found.user;
  }
}

import {
  Inject,
  Injectable,
  Logger,
  type DynamicModule,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { IdempotencyModule } from '@overture/idempotency';
import { DatabaseModule } from '@overture/database';
import { ACCESS_TOKEN_CHECKER, GrpcIdentityGuard, PolicyCache, TokenVerifier } from '@overture/identity';
import { AccountService } from './accounts/account.service.js';
import { PasswordHasher } from './accounts/password-hasher.js';
import { UserRepository } from './accounts/user.repository.js';
import { SecurityEventRepository } from './audit/security-event.repository.js';
import { AUTH_CONFIG, type AuthConfig } from './auth.config.js';
import { AuthGrpcController } from './auth.grpc-controller.js';
import { migrations } from './database/migrations/index.js';
import { KeyEncryption } from './keys/key-encryption.js';
import { SigningKeyRepository } from './keys/signing-key.repository.js';
import { SigningKeyService } from './keys/signing-key.service.js';
import { PurgeRepository } from './maintenance/purge.repository.js';
import { PurgeService } from './maintenance/purge.service.js';
import { PolicyRepository } from './policy/policy.repository.js';
import { PolicyService } from './policy/policy.service.js';
import { PolicyStream } from './policy/policy-stream.js';
import { SessionRepository } from './sessions/session.repository.js';
import { SessionService } from './sessions/session.service.js';
import { RegistrationThrottle } from './throttle/registration-throttle.js';
import { SignInThrottle } from './throttle/sign-in-throttle.js';
import { ThrottleRepository } from './throttle/throttle.repository.js';
import { RefreshTokenRepository } from './tokens/refresh-token.repository.js';
import { TokenService } from './tokens/token.service.js';

/** Auth follows its own policy stream in process, so its guard enforces what every other verifier does. */
@Injectable()
class LocalPolicyFollower implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(PolicyCache) private readonly cache: PolicyCache) {}

  onApplicationBootstrap(): void {
    this.cache.start();
  }

  onApplicationShutdown(): void {
    this.cache.stop();
  }
}

@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AuthModule,
      // Idempotency-Keys of registrations, stored with the account in its transaction.
      imports: [DatabaseModule.forService('auth', config, migrations), IdempotencyModule.forRoot(config)],
      controllers: [AuthGrpcController],
      providers: [
        { provide: AUTH_CONFIG, useValue: config },
        {
          provide: PasswordHasher,
          useValue: new PasswordHasher({
            memoryKiB: config.AUTH_ARGON2_MEMORY_KIB,
            passes: config.AUTH_ARGON2_PASSES,
            concurrency: { maxRunning: config.AUTH_ARGON2_MAX_CONCURRENT, maxQueued: config.AUTH_ARGON2_MAX_QUEUED },
          }),
        },
        { provide: KeyEncryption, useValue: new KeyEncryption(config.AUTH_KEY_ENCRYPTION_KEY) },
        UserRepository,
        AccountService,
        SigningKeyRepository,
        SigningKeyService,
        RefreshTokenRepository,
        TokenService,
        SecurityEventRepository,
        PolicyRepository,
        PolicyService,
        PolicyStream,
        SessionRepository,
        SessionService,
        ThrottleRepository,
        SignInThrottle,
        RegistrationThrottle,
        PurgeRepository,
        PurgeService,
        {
          provide: PolicyCache,
          inject: [PolicyStream],
          useFactory: (stream: PolicyStream) => new PolicyCache({ watch: () => stream.watch(), logger: new Logger('PolicyCache') }),
        },
        LocalPolicyFollower,
        {
          provide: ACCESS_TOKEN_CHECKER,
          inject: [SigningKeyService],
          useFactory: (keys: SigningKeyService) => new TokenVerifier(keys, { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
        },
        { provide: APP_GUARD, useClass: GrpcIdentityGuard },
      ],
    };
  }
}

import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@overture/database';
import { AccountService } from './accounts/account.service.js';
import { PasswordHasher } from './accounts/password-hasher.js';
import { UserRepository } from './accounts/user.repository.js';
import { AUTH_CONFIG, type AuthConfig } from './auth.config.js';
import { AuthGrpcController } from './auth.grpc-controller.js';
import { migrations } from './database/migrations/index.js';
import { KeyEncryption } from './keys/key-encryption.js';
import { SigningKeyRepository } from './keys/signing-key.repository.js';
import { SigningKeyService } from './keys/signing-key.service.js';
import { RefreshTokenRepository } from './tokens/refresh-token.repository.js';
import { TokenService } from './tokens/token.service.js';

@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          entities: [],
          migrations,
          poolSize: config.DATABASE_POOL_SIZE,
          applicationName: 'overture-auth',
        }),
      ],
      controllers: [AuthGrpcController],
      providers: [
        { provide: AUTH_CONFIG, useValue: config },
        {
          provide: PasswordHasher,
          useValue: new PasswordHasher({ memoryKiB: config.AUTH_ARGON2_MEMORY_KIB, passes: config.AUTH_ARGON2_PASSES }),
        },
        { provide: KeyEncryption, useValue: new KeyEncryption(config.AUTH_KEY_ENCRYPTION_KEY) },
        UserRepository,
        AccountService,
        SigningKeyRepository,
        SigningKeyService,
        RefreshTokenRepository,
        TokenService,
      ],
    };
  }
}

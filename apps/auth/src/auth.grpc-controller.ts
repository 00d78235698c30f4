import { Controller, Inject } from '@nestjs/common';
import { authV1 } from '@overture/contracts';
import { parseRequest } from '@overture/grpc';
import { getUserSchema, registerSchema } from './accounts/account.schemas.js';
import { AccountService } from './accounts/account.service.js';
import type { User } from './accounts/user.js';
import { SigningKeyService } from './keys/signing-key.service.js';
import { issueTokenSchema } from './tokens/token.schemas.js';
import { TokenService } from './tokens/token.service.js';

@Controller()
@authV1.AuthServiceControllerMethods()
export class AuthGrpcController implements authV1.AuthServiceController {
  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(SigningKeyService) private readonly keys: SigningKeyService,
  ) {}

  async register(request: authV1.RegisterRequest): Promise<authV1.RegisterResponse> {
    return { user: toProto(await this.accounts.register(parseRequest(registerSchema, request))) };
  }

  async issueToken(request: authV1.IssueTokenRequest): Promise<authV1.IssueTokenResponse> {
    const grant = parseRequest(issueTokenSchema, request);
    return grant.kind === 'password'
      ? this.tokens.passwordGrant(grant.email, grant.password)
      : this.tokens.refreshGrant(grant.refreshToken);
  }

  async getUser(request: authV1.GetUserRequest): Promise<authV1.GetUserResponse> {
    const { userId } = parseRequest(getUserSchema, request);
    return { user: toProto(await this.accounts.getUser(userId)) };
  }

  async getJwks(): Promise<authV1.GetJwksResponse> {
    return { keys: await this.keys.publicKeys() };
  }
}

function toProto(user: User): authV1.User {
  return {
    userId: user.id,
    email: user.email,
    displayName: user.displayName,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
  };
}

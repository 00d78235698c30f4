import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuth, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthReason, GatewayReason } from '@overture/contracts';
import {
  changePasswordBodySchema,
  deleteAccountBodySchema,
  jwksViewSchema,
  registerBodySchema,
  revokeBodySchema,
  tokenBodySchema,
  tokenViewSchema,
  userViewSchema,
  type ChangePasswordBody,
  type DeleteAccountBody,
  type RegisterBody,
  type RevokeBody,
  type TokenBody,
  type TokenView,
  type UserView,
} from '@overture/gateway-contract';
import type { JSONWebKeySet } from 'jose';
import type { CallContext } from '../downstream/call-context.js';
import { serviceUnavailable } from '../http/gateway.errors.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { answer, IdempotencyKey } from '../http/idempotency-key.js';
import { ApiRequestTimeoutHeader, CallCtx, ClientAddress } from '../http/request-params.js';
import { AccountService } from './account.service.js';
import { CurrentUser } from './current-user.decorator.js';
import { JwksCache } from './jwks-cache.js';
import type { Principal } from './principal.js';
import { Public } from './public.decorator.js';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(JwksCache) private readonly jwksCache: JwksCache,
  ) {}

  @Public()
  @Post('v1/auth/register')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an account (role: listener)' })
  @ApiRequestTimeoutHeader()
  @ApiResponse({ status: 201, description: 'The new account', standardSchema: userViewSchema })
  @ApiErrors(
    400,
    [409, AuthReason.EMAIL_TAKEN],
    413,
    422,
    [429, AuthReason.TOO_MANY_REGISTRATIONS, AuthReason.PASSWORD_HASHING_BUSY],
    [503, GatewayReason.SERVICE_UNAVAILABLE],
    504,
  )
  async register(
    @Body({ schema: registerBodySchema }) body: RegisterBody,
    @CallCtx() ctx: CallContext,
    @ClientAddress() address: string,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserView> {
    return answer(reply, await this.accounts.register(ctx, body, address, key));
  }

  @Public()
  @Post('v1/auth/token')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Sign in, or refresh an access token (OAuth 2.0 password and refresh_token grants)',
    description: 'Refresh tokens rotate: each one can be used once, and the response carries its successor.',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiRequestTimeoutHeader()
  @ApiResponse({ status: 200, description: 'Tokens', standardSchema: tokenViewSchema })
  @ApiErrors(
    400,
    [401, AuthReason.INVALID_CREDENTIALS, AuthReason.INVALID_REFRESH_TOKEN, AuthReason.REFRESH_TOKEN_REUSED],
    413,
    415,
    [429, AuthReason.TOO_MANY_SIGN_IN_ATTEMPTS, AuthReason.PASSWORD_HASHING_BUSY],
    [503, GatewayReason.SERVICE_UNAVAILABLE],
    504,
  )
  async token(
    @Body({ schema: tokenBodySchema }) body: TokenBody,
    @CallCtx() ctx: CallContext,
    @ClientAddress() address: string,
  ): Promise<TokenView> {
    return this.accounts.token(ctx, body, address);
  }

  @Public()
  @Post('v1/auth/revoke')
  @HttpCode(200)
  @ApiOperation({
    summary: 'End the session of a refresh token (RFC 7009)',
    description:
      'Answers 200 for an unknown or already revoked token too, as RFC 7009 asks. Access tokens of the session stop working within seconds.',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiRequestTimeoutHeader()
  @ApiResponse({ status: 200, description: 'Revoked (or nothing to revoke)' })
  @ApiErrors(400, 413, 415, [503, GatewayReason.SERVICE_UNAVAILABLE], 504)
  async revoke(@Body({ schema: revokeBodySchema }) body: RevokeBody, @CallCtx() ctx: CallContext): Promise<Record<string, never>> {
    await this.accounts.revoke(ctx, body);
    return {};
  }

  @Put('v1/me/password')
  @HttpCode(204)
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'Change the password', description: 'Every other session of the account ends; this one goes on.' })
  @ApiRequestTimeoutHeader()
  @ApiResponse({ status: 204, description: 'Changed' })
  @ApiErrors(
    400,
    [401, AuthReason.INVALID_CREDENTIALS],
    413,
    [429, AuthReason.TOO_MANY_SIGN_IN_ATTEMPTS, AuthReason.PASSWORD_HASHING_BUSY],
    503,
    504,
  )
  async changePassword(
    @CurrentUser() user: Principal,
    @Body({ schema: changePasswordBodySchema }) body: ChangePasswordBody,
    @CallCtx() ctx: CallContext,
    @ClientAddress() address: string,
  ): Promise<void> {
    await this.accounts.changePassword(ctx, user.userId, body, address);
  }

  @Delete('v1/me')
  @HttpCode(204)
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'Delete the account', description: 'Needs the password; every session ends at once.' })
  @ApiRequestTimeoutHeader()
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(
    400,
    [401, AuthReason.INVALID_CREDENTIALS],
    [409, AuthReason.LAST_ADMIN],
    413,
    [429, AuthReason.TOO_MANY_SIGN_IN_ATTEMPTS, AuthReason.PASSWORD_HASHING_BUSY],
    503,
    504,
  )
  async deleteAccount(
    @CurrentUser() user: Principal,
    @Body({ schema: deleteAccountBodySchema }) body: DeleteAccountBody,
    @CallCtx() ctx: CallContext,
    @ClientAddress() address: string,
  ): Promise<void> {
    await this.accounts.deleteAccount(ctx, user.userId, body, address);
  }

  @Get('v1/me')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'The signed-in account' })
  @ApiRequestTimeoutHeader()
  @ApiResponse({ status: 200, description: 'The account', standardSchema: userViewSchema })
  @ApiErrors(401, [404, AuthReason.USER_NOT_FOUND], 503, 504)
  async me(@CurrentUser() user: Principal, @CallCtx() ctx: CallContext): Promise<UserView> {
    return this.accounts.me(ctx, user.userId);
  }

  @Public()
  @Get('.well-known/jwks.json')
  @Header('cache-control', 'public, max-age=60')
  @ApiOperation({ summary: 'Public keys that verify access tokens', description: 'Served from the gateway cache of auth keys.' })
  @ApiResponse({ status: 200, description: 'JWKS', standardSchema: jwksViewSchema })
  @ApiErrors([503, GatewayReason.SERVICE_UNAVAILABLE])
  jwks(): JSONWebKeySet {
    const jwks = this.jwksCache.jwks;
    if (!jwks) throw serviceUnavailable('the signing keys have not been loaded yet; try again shortly');
    return jwks;
  }
}

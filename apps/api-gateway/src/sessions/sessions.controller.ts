import { Controller, Delete, Get, HttpCode, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sessionParamsSchema, sessionsViewSchema, type SessionParams, type SessionsView } from '@overture/gateway-contract';
import { AuthReason } from '@overture/contracts';
import { CurrentUser } from '../auth/current-user.decorator.js';
import type { Principal } from '../auth/principal.js';
import type { CallContext } from '../downstream/call-context.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx } from '../http/request-params.js';
import { SessionsService } from './sessions.service.js';

/** The caller's own sign-in sessions; another user's session id is 404, like an unknown one. */
@ApiTags('sessions')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
@Controller('v1/me/sessions')
export class SessionsController {
  constructor(@Inject(SessionsService) private readonly sessions: SessionsService) {}

  @Get()
  @ApiOperation({ summary: 'The active sessions of the account' })
  @ApiResponse({ status: 200, description: 'Sessions, newest first', standardSchema: sessionsViewSchema })
  @ApiErrors(401, 503, 504)
  async list(@CurrentUser() user: Principal, @CallCtx() ctx: CallContext): Promise<SessionsView> {
    return this.sessions.list(ctx, user.userId);
  }

  @Delete(':session_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'End a session', description: 'Its refresh token stops working at once, its access tokens within seconds.' })
  @ApiResponse({ status: 204, description: 'Ended' })
  @ApiErrors(400, 401, [404, AuthReason.SESSION_NOT_FOUND], 503, 504)
  async revoke(
    @CurrentUser() user: Principal,
    @Param({ schema: sessionParamsSchema }) params: SessionParams,
    @CallCtx() ctx: CallContext,
  ): Promise<void> {
    await this.sessions.revoke(ctx, user.userId, params.session_id);
  }
}

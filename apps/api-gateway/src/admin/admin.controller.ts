import { Body, Controller, Delete, Get, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthReason, type authV1 } from '@overture/contracts';
import { RequirePermission } from '@overture/identity';
import { userViewSchema, type UserView } from '../auth/auth.schemas.js';
import { toUserView } from '../auth/auth.views.js';
import { AuthClient } from '../downstream/auth.client.js';
import type { CallContext } from '../downstream/call-context.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx } from '../http/request-params.js';
import {
  policyViewSchema,
  roleParamsSchema,
  rolePermissionsBodySchema,
  securityEventsQuerySchema,
  securityEventsViewSchema,
  userRoleParamsSchema,
  type PolicyView,
  type RoleParams,
  type RolePermissionsBody,
  type SecurityEventsQuery,
  type SecurityEventsView,
  type UserRoleParams,
} from './admin.schemas.js';

/**
 * Roles, the role→permission map and the security log. The gateway checks the permission here and
 * auth checks it again from the forwarded token. A policy change applies everywhere within a second.
 */
@ApiTags('admin')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
@Controller('v1/admin')
export class AdminController {
  constructor(@Inject(AuthClient) private readonly auth: AuthClient) {}

  @Put('users/:user_id/roles/:role')
  @RequirePermission('users:admin')
  @ApiOperation({ summary: "Grant a role (the user's current access tokens must be refreshed to use it)" })
  @ApiResponse({ status: 200, description: 'The user after the change', standardSchema: userViewSchema })
  @ApiErrors(400, 401, 403, [404, AuthReason.USER_NOT_FOUND], 503, 504)
  async grantRole(@Param({ schema: userRoleParamsSchema }) params: UserRoleParams, @CallCtx() ctx: CallContext): Promise<UserView> {
    return toUserView(await this.auth.changeRole(ctx, params.user_id, params.role, true));
  }

  @Delete('users/:user_id/roles/:role')
  @RequirePermission('users:admin')
  @ApiOperation({ summary: "Revoke a role (the user's access tokens with it stop working within a second)" })
  @ApiResponse({ status: 200, description: 'The user after the change', standardSchema: userViewSchema })
  @ApiErrors(400, 401, 403, [404, AuthReason.USER_NOT_FOUND], [409, AuthReason.LAST_ADMIN], 503, 504)
  async revokeRole(@Param({ schema: userRoleParamsSchema }) params: UserRoleParams, @CallCtx() ctx: CallContext): Promise<UserView> {
    return toUserView(await this.auth.changeRole(ctx, params.user_id, params.role, false));
  }

  @Get('policy')
  @RequirePermission('policy:admin')
  @ApiOperation({ summary: 'The role→permission map and the permission vocabulary' })
  @ApiResponse({ status: 200, description: 'The policy', standardSchema: policyViewSchema })
  @ApiErrors(401, 403, 503, 504)
  async policy(@CallCtx() ctx: CallContext): Promise<PolicyView> {
    const policy = await this.auth.getPolicy(ctx);
    return { version: policy.version, roles: toRoleMap(policy.roles), permissions: policy.permissions };
  }

  @Put('policy/roles/:role')
  @RequirePermission('policy:admin')
  @ApiOperation({ summary: "Replace a role's permissions", description: 'Enforced by the gateway and every service within a second.' })
  @ApiResponse({ status: 200, description: 'The policy after the change', standardSchema: policyViewSchema })
  @ApiErrors([400, AuthReason.UNKNOWN_PERMISSION], 401, 403, [409, AuthReason.LAST_ADMIN], 413, 503, 504)
  async setRolePermissions(
    @Param({ schema: roleParamsSchema }) params: RoleParams,
    @Body({ schema: rolePermissionsBodySchema }) body: RolePermissionsBody,
    @CallCtx() ctx: CallContext,
  ): Promise<PolicyView> {
    await this.auth.setRolePermissions(ctx, params.role, body.permissions);
    return this.policy(ctx);
  }

  @Get('security-events')
  @RequirePermission('users:admin')
  @ApiOperation({ summary: 'The security log, newest first' })
  @ApiResponse({ status: 200, description: 'Events', standardSchema: securityEventsViewSchema })
  @ApiErrors(400, 401, 403, 503, 504)
  async securityEvents(@Query({ schema: securityEventsQuerySchema }) query: SecurityEventsQuery, @CallCtx() ctx: CallContext): Promise<SecurityEventsView> {
    const events = await this.auth.listSecurityEvents(ctx, { userId: query.user_id ?? '', limit: query.limit });
    return {
      events: events.map((e) => ({
        id: e.eventId,
        occurred_at: e.occurredAt,
        kind: e.kind,
        user_id: e.userId || null,
        actor_user_id: e.actorUserId || null,
        session_id: e.sessionId || null,
        client_address: e.clientAddress || null,
        detail: JSON.parse(e.detail || '{}') as Record<string, unknown>,
      })),
    };
  }
}

function toRoleMap(roles: authV1.RolePermissions[]): Record<string, string[]> {
  return Object.fromEntries(roles.map((r) => [r.role, r.permissions]));
}

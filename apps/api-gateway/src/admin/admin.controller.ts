import { Body, Controller, Delete, Get, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthReason } from '@overture/contracts';
import { RequirePermission } from '@overture/identity';
import {
  policyViewSchema,
  roleParamsSchema,
  rolePermissionsBodySchema,
  securityEventsQuerySchema,
  securityEventsViewSchema,
  userRoleParamsSchema,
  userViewSchema,
  type PolicyView,
  type RoleParams,
  type RolePermissionsBody,
  type SecurityEventsQuery,
  type SecurityEventsView,
  type UserRoleParams,
  type UserView,
} from '@overture/gateway-contract';
import type { CallContext } from '../downstream/call-context.js';
import { ApiErrors, BEARER_AUTH } from '../http/openapi.js';
import { ApiRequestTimeoutHeader, CallCtx } from '../http/request-params.js';
import { AdminService } from './admin.service.js';

/**
 * Roles, the role→permission map and the security log. The gateway checks the permission here and
 * auth checks it again from the forwarded token. A policy change applies everywhere within a second.
 */
@ApiTags('admin')
@ApiBearerAuth(BEARER_AUTH)
@ApiRequestTimeoutHeader()
@Controller('v1/admin')
export class AdminController {
  constructor(@Inject(AdminService) private readonly admin: AdminService) {}

  @Put('users/:user_id/roles/:role')
  @RequirePermission('users:admin')
  @ApiOperation({ summary: "Grant a role (the user's current access tokens must be refreshed to use it)" })
  @ApiResponse({ status: 200, description: 'The user after the change', standardSchema: userViewSchema })
  @ApiErrors(400, 401, 403, [404, AuthReason.USER_NOT_FOUND], 503, 504)
  async grantRole(@Param({ schema: userRoleParamsSchema }) params: UserRoleParams, @CallCtx() ctx: CallContext): Promise<UserView> {
    return this.admin.changeRole(ctx, params.user_id, params.role, true);
  }

  @Delete('users/:user_id/roles/:role')
  @RequirePermission('users:admin')
  @ApiOperation({ summary: "Revoke a role (the user's access tokens with it stop working within a second)" })
  @ApiResponse({ status: 200, description: 'The user after the change', standardSchema: userViewSchema })
  @ApiErrors(400, 401, 403, [404, AuthReason.USER_NOT_FOUND], [409, AuthReason.LAST_ADMIN], 503, 504)
  async revokeRole(@Param({ schema: userRoleParamsSchema }) params: UserRoleParams, @CallCtx() ctx: CallContext): Promise<UserView> {
    return this.admin.changeRole(ctx, params.user_id, params.role, false);
  }

  @Get('policy')
  @RequirePermission('policy:admin')
  @ApiOperation({ summary: 'The role→permission map and the permission vocabulary' })
  @ApiResponse({ status: 200, description: 'The policy', standardSchema: policyViewSchema })
  @ApiErrors(401, 403, 503, 504)
  async policy(@CallCtx() ctx: CallContext): Promise<PolicyView> {
    return this.admin.policy(ctx);
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
    return this.admin.setRolePermissions(ctx, params.role, body.permissions);
  }

  @Get('security-events')
  @RequirePermission('users:admin')
  @ApiOperation({ summary: 'The security log, newest first' })
  @ApiResponse({ status: 200, description: 'Events', standardSchema: securityEventsViewSchema })
  @ApiErrors(400, 401, 403, 503, 504)
  async securityEvents(
    @Query({ schema: securityEventsQuerySchema }) query: SecurityEventsQuery,
    @CallCtx() ctx: CallContext,
  ): Promise<SecurityEventsView> {
    return this.admin.securityEvents(ctx, query);
  }
}

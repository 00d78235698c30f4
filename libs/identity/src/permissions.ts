import { SetMetadata } from '@nestjs/common';
import type { ServiceIdentity } from '@overture/grpc';

/**
 * The permission vocabulary. Roles map to these in auth's database; routes and gRPC methods name
 * the one they need. A permission missing from a role's list is denied.
 */
export const PERMISSIONS = [
  'catalogue:read',
  'catalogue:write',
  'player:read',
  'player:write',
  'recommendations:read',
  'users:admin',
  'policy:admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['listener', 'premium', 'curator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const REQUIRED_PERMISSION = Symbol('REQUIRED_PERMISSION');
export const ALLOW_ANONYMOUS = Symbol('ALLOW_ANONYMOUS');
export const ACTS_ON_ANY_USER = Symbol('ACTS_ON_ANY_USER');
export const ACCEPTED_CALLERS = Symbol('ACCEPTED_CALLERS');

/** The caller's roles must grant `permission` (checked against the live policy). */
export const RequirePermission = (permission: Permission): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_PERMISSION, permission);

/** A method callable without an access token (sign-in, key publication). Every other one needs a token. */
export const AllowAnonymous = (): MethodDecorator & ClassDecorator => SetMetadata(ALLOW_ANONYMOUS, true);

/**
 * The request's `userId` names the user acted on, not the caller (admin methods). Without this, a
 * `userId` in the request must be the token's subject.
 */
export const ActsOnAnyUser = (): MethodDecorator & ClassDecorator => SetMetadata(ACTS_ON_ANY_USER, true);

/**
 * The workloads allowed to call a method (or every method of a controller), as their mutual-TLS
 * certificates prove. A method that names none accepts no caller at all.
 */
export const Callers = (...callers: [ServiceIdentity, ...ServiceIdentity[]]): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCEPTED_CALLERS, callers);

export { bearerToken } from './bearer.js';
export { ACCESS_TOKEN_CHECKER, GrpcIdentityGuard, principalOf, type AccessTokenChecker } from './grpc-identity.guard.js';
export { identityConfig, type IdentityConfig } from './identity.config.js';
export { allOf, identityReadiness } from './identity-readiness.js';
export { createIdentitySource, IdentityModule, type IdentitySource } from './identity.module.js';
export { JwksCache, toJwk, type JwksCacheOptions } from './jwks-cache.js';
export {
  ACCEPTED_CALLERS,
  ActsOnAnyUser,
  ACTS_ON_ANY_USER,
  AllowAnonymous,
  ALLOW_ANONYMOUS,
  Callers,
  PERMISSIONS,
  RequirePermission,
  REQUIRED_PERMISSION,
  ROLES,
  type Permission,
  type Role,
} from './permissions.js';
export { PolicyCache, type PolicyCacheOptions, type Staleness } from './policy-cache.js';
export type { Principal } from './principal.js';
export {
  SigningKeysUnavailableError,
  TokenRejectedError,
  TokenVerifier,
  type KeySource,
  type TokenVerifierOptions,
} from './token-verifier.js';

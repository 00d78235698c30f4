import type { authV1 } from '@overture/contracts';
import type { TokenBody, TokenView, UserView } from '@overture/gateway-contract';

export function toUserView(user: authV1.User): UserView {
  return { id: user.userId, email: user.email, display_name: user.displayName, roles: user.roles, created_at: user.createdAt };
}

export function toTokenView(token: authV1.IssueTokenResponse): TokenView {
  return {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiresIn,
    refresh_token: token.refreshToken,
    refresh_expires_in: token.refreshExpiresIn,
  };
}

export function toTokenRequest(body: TokenBody, clientAddress: string): authV1.IssueTokenRequest {
  const grant =
    body.grant_type === 'password'
      ? { password: { email: body.email, password: body.password } }
      : { refresh: { refreshToken: body.refresh_token } };
  return { ...grant, clientAddress };
}

import type { authV1 } from '@overture/contracts';
import type { SessionsView } from '@overture/gateway-contract';

export function toSessionsView(sessions: readonly authV1.Session[]): SessionsView {
  return {
    sessions: sessions.map((s) => ({
      id: s.sessionId,
      created_at: s.createdAt,
      last_used_at: s.lastUsedAt,
      expires_at: s.expiresAt,
      current: s.current,
    })),
  };
}
